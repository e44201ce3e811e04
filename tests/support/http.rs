//! A plain HTTP/1.1 client over a TcpStream, for API tests that must see exact
//! statuses and headers (no client library between the test and the server).

use std::io::{Read, Write};

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Log in over the API: the session cookie and the CSRF token.
pub fn api_login(addr: &str, name: &str) -> (String, String) {
    let body = serde_json::json!({"name": name, "password": super::browser::PASSWORD}).to_string();
    let r = request(addr, "POST", "/api/v1/login", &[], Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_owned();
    (cookie, r.json()["csrf"].as_str().unwrap().to_owned())
}

pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    exchange(stream, addr, method, path, headers, body)
}

/// A connection to `addr` from the loopback address `source` (127.0.0.2...): another
/// client, as far as the server can tell.
pub fn connect_from(source: &str, addr: &str) -> std::net::TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
    })
}

/// [`request`] from the loopback address `source`.
pub fn request_from(
    source: &str,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    exchange(
        connect_from(source, addr),
        addr,
        method,
        path,
        headers,
        body,
    )
}

fn exchange(
    mut stream: std::net::TcpStream,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    // A stream that never ends (an event feed answered 200) fails instead of hanging.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .write_all(body.unwrap_or_default().as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let data = &rest[eol + 2..];
        body.extend_from_slice(&data[..size]);
        rest = &data[(size + 2).min(data.len())..];
    }
    body
}

/// Two claims of one ticket at once: exactly one won (200), and the other (409) was
/// told who has it.
pub fn assert_one_claim_won(results: &[Response], round: usize) {
    let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
    assert!(
        statuses == [200, 409] || statuses == [409, 200],
        "round {round}: {statuses:?}"
    );
    let winner = results.iter().find(|r| r.status == 200).unwrap();
    let by = winner.json()["ticket"]["operator"]
        .as_str()
        .unwrap()
        .to_owned();
    let loser = results.iter().find(|r| r.status == 409).unwrap();
    let said = loser.json()["error"].as_str().unwrap().to_owned();
    assert!(said.contains(&format!("already taken by {by}")), "{said}");
}
