//! http_get — the aiohttp lesson, without the internet: a tiny HTTP/1.1 server and a
//! GET client, both on glass, over loopback.
//!
//! The lesson: `async with aiohttp.ClientSession() as session:` then
//! `async with session.get(url) as response:` gives `response.status` and
//! `await response.text()`, and `asyncio.gather` fetches several pages at once. There
//! is no internet here, so the program brings its own server, on 127.0.0.1 and a port
//! the system picks, and both halves are written by hand so that nothing is hidden.
//! HTTP/1.1 is lines of text that end in CRLF: a request line (or a status line),
//! headers, an empty line; then a body, exactly as long as the `Content-Length` header
//! says.
//!
//! The server reads a request line by line with `BufReader` and `read_line`, each line
//! bounded (a client that never sends a newline cannot make it buffer forever). It
//! answers `/` and `/hello?name=…`, `404 Not Found` for any other path, `405` for
//! methods other than GET and `400` for what is not HTTP, and keeps the connection
//! open for the next request unless the client asks to close it.
//!
//! The client writes its request, reads the status line and the headers, then exactly
//! `Content-Length` bytes of body. That length is how a client knows where one
//! response ends and the next begins when one connection carries several requests;
//! the last part of the run shows it.
//!
//! The book explains it in chapter 9, "Waiting for the world".
//!
//! Run it with `cargo run --example http_get`.

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use glass::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use glass::net::{TcpListener, TcpStream};

/// The longest line (request line, status line or header) either side reads.
const MAX_LINE: u64 = 8 * 1024;
/// The most headers the server reads in one request.
const MAX_HEADERS: usize = 100;

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

// ANCHOR: read_line
/// Reads one line of at most `MAX_LINE` bytes and returns it without its line end
/// (`\r\n`, or a bare `\n`); `None` at the end of the stream, before a line starts.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<String>> {
    let mut line = String::new();
    // `take` bounds the read: without it, `read_line` would buffer until it sees `\n`.
    let read = reader.take(MAX_LINE).read_line(&mut line).await?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') {
        return Err(if read as u64 == MAX_LINE {
            invalid(format!("a line is longer than {MAX_LINE} bytes"))
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended mid-line")
        });
    }
    line.truncate(line.trim_end_matches(['\r', '\n']).len());
    Ok(Some(line))
}
// ANCHOR_END: read_line

// ---------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------

/// What the server needs from a request: the request line, and whether the
/// connection ends after it.
struct Request {
    method: String,
    target: String,
    close: bool,
}

// ANCHOR: read_request
/// Reads a request's line and headers; `None` when the client hung up between
/// requests. A request that is not HTTP is an `InvalidData` error.
async fn read_request<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Request>> {
    let Some(request_line) = read_line(reader).await? else {
        return Ok(None);
    };
    // "GET /hello?name=glass HTTP/1.1"
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("the request line is not METHOD TARGET VERSION"));
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") || !target.starts_with('/') {
        return Err(invalid("not an HTTP/1.x request for a path"));
    }
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        close: version == "HTTP/1.0", // HTTP/1.0 closes after each response
    };
    // Headers, "Name: value", until an empty line. Names ignore case.
    for _ in 0..=MAX_HEADERS {
        let line = read_line(reader)
            .await?
            .ok_or_else(|| invalid("the request ended inside its headers"))?;
        if line.is_empty() {
            return Ok(Some(request));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("a header line has no colon"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            request.close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("content-length") && value != "0" {
            // This server reads no bodies: not knowing where the next request starts,
            // it answers this one and closes the connection.
            request.close = true;
        }
    }
    Err(invalid(format!("more than {MAX_HEADERS} headers")))
}
// ANCHOR_END: read_request

/// A response: status, plain-text body, and whether the connection closes after it.
struct Response {
    status: u16,
    reason: &'static str,
    body: String,
    close: bool,
}

impl Response {
    fn new(status: u16, reason: &'static str, body: String) -> Response {
        Response {
            status,
            reason,
            body,
            close: false,
        }
    }

    // ANCHOR: response_bytes
    /// The response as it goes on the wire: status line, headers, empty line, body.
    fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n\
             Server: glass-http-example\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\n",
            self.status,
            self.reason,
            self.body.len()
        );
        if self.close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        [head.as_bytes(), self.body.as_bytes()].concat()
    }
    // ANCHOR_END: response_bytes
}

/// The two pages, and 404 for anything else.
fn route(request: &Request) -> Response {
    if request.method != "GET" {
        let mut response = Response::new(
            405,
            "Method Not Allowed",
            format!("{} is not served here; try GET\n", request.method),
        );
        response.close = true; // its body, if any, was not read
        return response;
    }
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    match path {
        "/" => Response::new(
            200,
            "OK",
            "Welcome to glass's tiny HTTP server. Try /hello?name=you\n".to_owned(),
        ),
        "/hello" => {
            let name = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("name="))
                .filter(|name| !name.is_empty())
                .unwrap_or("world");
            Response::new(200, "OK", format!("Hello, {name}!\n"))
        }
        _ => Response::new(404, "Not Found", format!("No page at {path}\n")),
    }
}

/// What the server counts, for the last line of the run.
#[derive(Default)]
struct ServerCounts {
    connections: Cell<u32>,
    requests: Cell<u32>,
}

// ANCHOR: serve_connection
/// Serves the requests of one connection, one after the other, until the client
/// hangs up or asks to close.
async fn serve_connection(stream: TcpStream, counts: Rc<ServerCounts>) -> io::Result<()> {
    stream.set_nodelay(true)?;
    // Read through a buffer (lines arrive in pieces), write straight to the socket.
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    loop {
        let mut response = match read_request(&mut reader).await {
            Ok(Some(request)) => {
                let mut response = route(&request);
                response.close |= request.close;
                response
            }
            Ok(None) => return Ok(()), // the client hung up
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                Response::new(400, "Bad Request", format!("{error}\n"))
            }
            Err(error) => return Err(error),
        };
        if response.status == 400 {
            response.close = true; // after garbage, the next request cannot be found
        }
        counts.requests.set(counts.requests.get() + 1);
        writer.write_all(&response.to_bytes()).await?;
        if response.close {
            return Ok(()); // dropping the stream closes the connection
        }
    }
}
// ANCHOR_END: serve_connection

/// Accepts connections until cancelled, each served by a task of its own.
async fn serve(listener: TcpListener, counts: Rc<ServerCounts>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                counts.connections.set(counts.connections.get() + 1);
                let counts = Rc::clone(&counts);
                drop(glass::spawn(async move {
                    if let Err(error) = serve_connection(stream, counts).await {
                        eprintln!("server: the connection from {peer} failed: {error}");
                    }
                }));
            }
            Err(error) => {
                eprintln!("server: accept failed: {error}; accepting again in 5 ms");
                glass::sleep(Duration::from_millis(5)).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------

/// A response as the client sees it.
struct Fetched {
    status_line: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// A client's connection to an HTTP server, good for several requests in turn; a
/// one-connection `aiohttp.ClientSession`.
struct Connection {
    /// The stream, read through a buffer; requests are written to
    /// `reader.get_ref()`, the stream itself.
    reader: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    async fn open(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::new(stream),
            host: addr.to_string(),
        })
    }

    // ANCHOR: get
    /// Sends `GET target` and reads the response; `close` asks the server to close
    /// the connection after it.
    async fn get(&mut self, target: &str, close: bool) -> io::Result<Fetched> {
        let mut request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: glass-http-get\r\n",
            self.host
        );
        if close {
            request.push_str("Connection: close\r\n");
        }
        request.push_str("\r\n");
        self.send(&request).await
    }

    /// Sends `request` as it is, and reads the response.
    async fn send(&mut self, request: &str) -> io::Result<Fetched> {
        let mut writer = self.reader.get_ref();
        writer.write_all(request.as_bytes()).await?;

        // "HTTP/1.1 200 OK"
        let status_line = read_line(&mut self.reader).await?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection without answering",
            )
        })?;
        let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
            ["HTTP/1.1" | "HTTP/1.0", code, ..] => code.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| invalid(format!("not an HTTP status line: {status_line:?}")))?;

        let mut headers = Vec::new();
        loop {
            let line = read_line(&mut self.reader)
                .await?
                .ok_or_else(|| invalid("the response ended inside its headers"))?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid("a header line has no colon"))?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }

        // Exactly Content-Length bytes: the next response starts right after them.
        let length: usize = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse().ok())
            .ok_or_else(|| invalid("the response has no Content-Length"))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await?;
        let body = String::from_utf8(body).map_err(|_| invalid("the body is not UTF-8"))?;
        Ok(Fetched {
            status_line,
            status,
            headers,
            body,
        })
    }
    // ANCHOR_END: get
}

/// One GET on a connection of its own; like `session.get(url)`.
async fn fetch(addr: SocketAddr, target: &'static str) -> io::Result<Fetched> {
    Connection::open(addr).await?.get(target, true).await
}

/// A request and its response in one line: status line, then body.
fn summary(request: &str, response: &Fetched) -> String {
    format!(
        "{request} -> {} -> {:?}",
        response.status_line,
        response.body.trim_end()
    )
}

async fn lesson() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let counts = Rc::new(ServerCounts::default());
    let server = glass::spawn(serve(listener, Rc::clone(&counts)));
    println!("the server listens on 127.0.0.1, on a port the system picked");

    println!("-- one GET: the client sends \"GET / HTTP/1.1\" and three headers, and reads");
    let response = fetch(addr, "/").await?;
    println!("  {}", response.status_line);
    for (name, value) in &response.headers {
        println!("  {name}: {value}");
    }
    println!();
    for line in response.body.lines() {
        println!("  {line}");
    }
    println!(
        "status {}, body of {} bytes",
        response.status,
        response.body.len()
    );

    println!("-- three GETs at once, each on its own connection, like asyncio.gather");
    let targets = ["/hello?name=glass", "/hello", "/no/such/page"];
    let responses = glass::gather_all(targets.map(|target| fetch(addr, target))).await;
    for (target, response) in targets.iter().zip(responses) {
        let response = response?;
        println!("{}", summary(&format!("GET {target}"), &response));
    }

    println!("-- two GETs on one connection: Content-Length says where the first ends");
    let mut connection = Connection::open(addr).await?;
    let first = connection.get("/hello?name=first", false).await?;
    println!("{}", summary("GET /hello?name=first", &first));
    let second = connection.get("/hello?name=second", true).await?;
    println!("{}", summary("GET /hello?name=second", &second));

    println!("-- a request that is not HTTP: the server answers 400 and closes");
    let mut connection = Connection::open(addr).await?;
    let teapot = connection.send("BREW /pot HTCPCP/1.0\r\n\r\n").await?;
    println!("{}", summary("BREW /pot HTCPCP/1.0", &teapot));

    server.cancel();
    println!(
        "the server answered {} requests on {} connections",
        counts.requests.get(),
        counts.connections.get()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match glass::run(lesson()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("http_get: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
