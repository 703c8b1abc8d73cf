use glass::io::{AsyncReadExt, AsyncWriteExt};
use glass::net::{TcpListener, TcpStream};
#[test]
fn many_echo_clients() {
    glass::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = glass::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                glass::spawn(async move {
                    let (mut r, mut w) = stream.into_split();
                    glass::io::copy(&mut r, &mut w).await.unwrap();
                })
                .join();
            }
        });
        let clients: Vec<_> = (0..200u32)
            .map(|i| {
                glass::spawn(async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    for k in 0..50u32 {
                        let msg = format!("{i}-{k}-{}", "x".repeat((k * 37 % 500) as usize));
                        s.write_all(msg.as_bytes()).await.unwrap();
                        let mut back = vec![0; msg.len()];
                        s.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, msg.as_bytes());
                    }
                    i
                })
            })
            .collect();
        let done = glass::gather_all(clients).await;
        assert_eq!(done.len(), 200);
        server.cancel();
    });
}
