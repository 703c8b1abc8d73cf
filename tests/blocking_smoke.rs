use std::time::Duration;
#[test]
fn offload_and_pool() {
    let v = glass::run(async {
        let a = glass::run_in_executor(|| {
            std::thread::sleep(Duration::from_millis(5));
            40
        });
        let b = glass::task::spawn_blocking(|| 2);
        a.await + b.await
    });
    assert_eq!(v, 42);
    let p = glass::ThreadPool::new(3);
    let t = p.submit(|| 5);
    assert_eq!(t.wait(), 5);
    let r = glass::run(p.map(|x: u32| x * 2, 0..10));
    assert_eq!(r, (0..10).map(|x| x * 2).collect::<Vec<_>>());
    let t = p.submit(|| -> u32 { panic!("job boom") });
    let e = glass::run(t.join()).unwrap_err();
    assert!(e.is_panic(), "{e}");
    p.shutdown();
    // paused clock waits for blocking job
    let mut lp = glass::EventLoop::builder().paused_clock(true).build();
    let out = lp.run_until_complete(async {
        let job = glass::run_in_executor(|| {
            std::thread::sleep(Duration::from_millis(20));
            1
        });
        glass::wait_for(job, Duration::from_secs(3600)).await
    });
    assert_eq!(out, Ok(1));
    let n = glass::run(async {
        let tasks: Vec<_> = (0..10_000u64)
            .map(|i| glass::run_in_executor(move || i))
            .collect();
        glass::gather_all(tasks).await.into_iter().sum::<u64>()
    });
    assert_eq!(n, 10_000 * 9_999 / 2);
    assert!(glass::blocking::blocking_threads() <= 64);
}
#[test]
fn task_group_semantics() {
    let mut lp = glass::EventLoop::builder().paused_clock(true).build();
    lp.run_until_complete(async {
        let mut g = glass::TaskGroup::new();
        g.spawn(async {
            glass::sleep(Duration::from_secs(2)).await;
            2
        });
        let h = g.spawn(async {
            glass::sleep(Duration::from_secs(5)).await;
            5
        });
        g.spawn(async {
            glass::sleep(Duration::from_secs(1)).await;
            1
        });
        assert_eq!(g.join_next().await.unwrap().unwrap(), 1);
        h.cancel();
        let r = g.join_all().await;
        assert!(r.unwrap_err().is_cancelled());
        let mut g = glass::TaskGroup::new();
        g.spawn(async {
            glass::sleep(Duration::from_secs(10)).await;
            0
        });
        g.spawn(async {
            glass::sleep(Duration::from_secs(1)).await;
            panic!("child boom")
        });
        let start = glass::time::Instant::now();
        let e = g.join_all().await.unwrap_err();
        assert!(e.is_panic());
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // cancelled before first poll
        let mut g = glass::TaskGroup::new();
        let h = g.spawn(async { 1 });
        h.cancel();
        assert!(g.join_next().await.unwrap().unwrap_err().is_cancelled());
        assert!(g.join_next().await.is_none());
        use glass::stream::StreamExt;
        let order: Vec<u64> = glass::as_completed([3u64, 1, 2].map(|s| async move {
            glass::sleep(Duration::from_secs(s)).await;
            s
        }))
        .collect()
        .await;
        assert_eq!(order, [1, 2, 3]);
        let r: Result<(i32, i32), &str> = glass::try_gather!(
            async {
                glass::sleep(Duration::from_secs(100)).await;
                Ok(1)
            },
            async { Err("x") }
        );
        assert_eq!(r, Err("x"));
    });
}
#[test]
fn files_roundtrip() {
    use glass::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
    glass::run(async {
        let dir = std::env::temp_dir().join(format!("glass-fs-smoke-{}", std::process::id()));
        glass::fs::create_dir_all(&dir).await.unwrap();
        let p = dir.join("a.txt");
        let mut f = glass::fs::File::create(&p).await.unwrap();
        for i in 0..1000 { f.write_all(format!("line {i}\n").as_bytes()).await.unwrap(); }
        f.close().await.unwrap();
        let text = glass::fs::read_to_string(&p).await.unwrap();
        assert_eq!(text.lines().count(), 1000);
        let mut f = glass::fs::File::open(&p).await.unwrap();
        let mut head = [0u8; 7];
        f.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"line 0\n");
        let pos = f.seek(std::io::SeekFrom::Current(0)).await.unwrap();
        assert_eq!(pos, 7);
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest.len() + 7, text.len());
        let e = glass::fs::read(dir.join("missing")).await.unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        glass::fs::remove_file(&p).await.unwrap();
        assert!(glass::fs::metadata(&dir).await.unwrap().is_dir());
        std::fs::remove_dir(&dir).unwrap();
    });
}
#[test]
fn paused_loop_wakes_when_an_unawaited_job_ends() {
    let mut lp = glass::EventLoop::builder().paused_clock(true).build();
    lp.run_until_complete(async {
        drop(glass::run_in_executor(|| std::thread::sleep(Duration::from_millis(20))));
        glass::sleep(Duration::from_secs(1)).await;
    });
}
