//! A fake EC2 instance metadata service, for running the agent on this
//! machine as if on an instance: IMDSv2 only (a GET without a valid
//! session token is refused with 401, as on an instance that requires
//! tokens), the instance's id, and a spot interruption notice that a test
//! schedules. moto's own IMDS answers 500 for `spot/instance-action` and
//! does not enforce tokens, so the agent is tested against this one.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "fake-imdsv2-session-token";

#[derive(Default)]
struct State {
    instance_id: Mutex<String>,
    interruption: Mutex<Option<String>>,
    requests: AtomicUsize,
    /// A GET came without a valid token (IMDSv1): the agent must never.
    tokenless: AtomicUsize,
    stop: AtomicBool,
}

pub struct FakeImds {
    url: String,
    state: Arc<State>,
}

impl FakeImds {
    /// Serve on a loopback port, as instance `instance_id`.
    pub fn start(instance_id: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let state = Arc::new(State::default());
        *state.instance_id.lock().unwrap() = instance_id.to_string();
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let s = s.clone();
                    std::thread::spawn(move || serve(conn, &s));
                }
            }
        });
        Self { url, state }
    }

    /// The endpoint to give the agent (`hoist agent --ec2 URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// EC2 schedules this instance's spot interruption (two minutes ahead).
    pub fn schedule_interruption(&self) {
        *self.state.interruption.lock().unwrap() = Some(r#"{"action": "terminate", "time": "2026-11-23T12:00:00Z"}"#.into());
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// GETs that came without the session token (IMDSv1).
    pub fn tokenless_requests(&self) -> usize {
        self.state.tokenless.load(Ordering::SeqCst)
    }
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(conn: TcpStream, s: &State) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone the stream"));
    let mut out = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut token = None;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "x-aws-ec2-metadata-token" => token = Some(v.trim().to_string()),
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        if length > 0 {
            let mut body = vec![0u8; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
        }
        s.requests.fetch_add(1, Ordering::SeqCst);
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let (status, body, extra) = if method == "PUT" && path == "/latest/api/token" {
            (200, TOKEN.to_string(), "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n")
        } else if token.as_deref() != Some(TOKEN) {
            s.tokenless.fetch_add(1, Ordering::SeqCst);
            (401, String::new(), "")
        } else {
            match path.as_str() {
                "/latest/meta-data/instance-id" => (200, s.instance_id.lock().unwrap().clone(), ""),
                "/latest/meta-data/spot/instance-action" => match s.interruption.lock().unwrap().clone() {
                    Some(notice) => (200, notice, ""),
                    None => (404, "Not Found".into(), ""),
                },
                _ => (404, "Not Found".into(), ""),
            }
        };
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            _ => "Not Found",
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
