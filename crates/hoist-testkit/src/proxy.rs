//! A fault-injecting HTTP/1.1 proxy between the `hoist` binary and the
//! emulator, on a free loopback port.
//!
//! Every request is forwarded byte for byte (the `Host` header included),
//! so the SigV4 signature the SDK computed for the proxy's address is the
//! one moto verifies, IAM enforcement on or off. Per proxy it can:
//!
//! - add latency to every request (fixed, or per service);
//! - inject faults at a rate, decided deterministically from a seed:
//!   throttling (the error each service's protocol uses), 500, 503, a
//!   connection reset before the request reaches the emulator, or a reset
//!   after it did (the request applied, its response lost);
//! - stop after request N: requests 1..=N are answered normally, every
//!   later one is reset and the port closed, as if the client's process
//!   had been killed right after its N-th request;
//! - record every exchange (method, path, service, operation, status,
//!   fault, timing).
//!
//! The proxy runs on its own thread and runtime, so a test may block its
//! own thread on the `hoist` process (`std::process::Command::output`)
//! without stalling the proxy.
//!
//! It speaks just enough HTTP/1.1 for the SDK and moto: a request head,
//! then a `Content-Length` or chunked body; a response framed by
//! `Content-Length`, chunked, or the connection's end. Connections are
//! kept alive as long as both sides keep them.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};

/// A fault the proxy can inject into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The service's throttling error, not forwarded: `Throttling` (HTTP
    /// 400, awsQuery: IAM, STS), `ThrottlingException` (400, JSON:
    /// CloudWatch Logs), `SlowDown` (503, S3), `RequestLimitExceeded`
    /// (503, EC2).
    Throttle,
    /// HTTP 500 with the service's `InternalError` body, not forwarded.
    InternalError,
    /// HTTP 503 with the service's `ServiceUnavailable` body, not forwarded.
    ServiceUnavailable,
    /// The connection is reset before the request is forwarded.
    Reset,
    /// The request is forwarded and applied; then the connection is reset
    /// instead of the response being sent (a response lost on the way).
    LostResponse,
    /// EC2's `InsufficientInstanceCapacity` (HTTP 500), not forwarded: no
    /// capacity for the instance type in that zone.
    NoCapacity,
}

impl Fault {
    /// Faults after which the request had no effect: retrying is safe.
    pub const TRANSIENT: &'static [Fault] = &[Fault::Throttle, Fault::InternalError, Fault::ServiceUnavailable, Fault::Reset];
}

/// What one proxy does. `FaultConfig::default()` forwards everything
/// unchanged, without delay.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Added to every request before it is forwarded (or answered with a
    /// fault), unless `service_latency` names the request's service.
    pub latency: Duration,
    /// Per service (`iam`, `s3`, `logs`, `ec2`, `sts`: the SigV4 scope's
    /// service), replacing `latency`.
    pub service_latency: BTreeMap<String, Duration>,
    /// Share of requests (0.0..=1.0) answered with a fault.
    pub fault_rate: f64,
    /// The faults drawn from, uniformly; empty means [`Fault::TRANSIENT`].
    pub faults: Vec<Fault>,
    /// Seeds the fault decisions. A request's fate depends on the seed, its
    /// identity ([`Exchange::identity`]) and how many requests of that
    /// identity came before it: not on how concurrent requests interleave.
    pub seed: u64,
    /// Answer requests 1..=N (in arrival order), then refuse everything.
    pub stop_after: Option<usize>,
    /// Faults for exact requests, besides `fault_rate`'s: (operation, n,
    /// fault) injects `fault` into the n-th (1-based) request of that
    /// operation (`CreateRole`, `PutBucketTagging`, ...).
    pub scripted: Vec<(String, usize, Fault)>,
}

impl FaultConfig {
    pub fn latency(mut self, d: Duration) -> Self {
        self.latency = d;
        self
    }

    pub fn service_latency(mut self, service: &str, d: Duration) -> Self {
        self.service_latency.insert(service.to_string(), d);
        self
    }

    /// Inject `faults` (empty: the transient ones) into `rate` of requests.
    pub fn faults(mut self, rate: f64, seed: u64, faults: &[Fault]) -> Self {
        assert!((0.0..=1.0).contains(&rate), "fault rate {rate} is not in 0..=1");
        self.fault_rate = rate;
        self.seed = seed;
        self.faults = faults.to_vec();
        self
    }

    pub fn stop_after(mut self, n: usize) -> Self {
        self.stop_after = Some(n);
        self
    }

    /// Inject `fault` into the `nth` (1-based) request of `operation`.
    pub fn fault_at(mut self, operation: &str, nth: usize, fault: Fault) -> Self {
        self.scripted.push((operation.to_string(), nth, fault));
        self
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// 1-based, in the order requests arrived (complete, body included).
    pub seq: usize,
    pub method: String,
    /// The request target's path, without the query.
    pub path: String,
    pub query: String,
    /// The SigV4 credential scope's service (`iam`, `s3`, ...); empty for
    /// an unsigned request.
    pub service: String,
    /// `Action=` (query protocols), `X-Amz-Target` (JSON), or the S3
    /// operation derived from method, path and sub-resource; empty if
    /// none of those applies.
    pub operation: String,
    /// The status the client received; `None` if it received no response
    /// (reset, refused, or the emulator failed).
    pub status: Option<u16>,
    /// The emulator's status, if the request was forwarded.
    pub upstream_status: Option<u16>,
    pub injected: Option<Fault>,
    /// A hash of the request's method, target, service, operation and
    /// body: the SDK's retries of one call share it (its signature date
    /// changes, the rest does not).
    pub identity: u64,
    /// Refused because the proxy had stopped (`stop_after`).
    pub refused: bool,
    /// When the request had arrived, and when its response was written
    /// (or the connection reset), since the proxy started.
    pub arrived: Duration,
    pub finished: Duration,
}

impl Exchange {
    /// `service Operation`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.service, self.operation)
    }

    /// Whether the request reached the emulator (and so may have changed
    /// its state).
    pub fn forwarded(&self) -> bool {
        self.upstream_status.is_some()
    }
}

struct Shared {
    cfg: FaultConfig,
    upstream: SocketAddr,
    epoch: Instant,
    arrivals: AtomicUsize,
    stopped: AtomicBool,
    stop: Notify,
    /// Identical requests seen so far (for the fault decision).
    occurrences: Mutex<HashMap<u64, u64>>,
    /// Requests of each operation seen so far (for scripted faults).
    operations: Mutex<HashMap<String, usize>>,
    log: Mutex<Vec<Exchange>>,
}

impl Shared {
    fn new(cfg: FaultConfig, upstream: SocketAddr) -> Self {
        Self {
            cfg,
            upstream,
            epoch: Instant::now(),
            arrivals: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
            stop: Notify::new(),
            occurrences: Mutex::new(HashMap::new()),
            operations: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
        }
    }
}

/// A running proxy. Stops (closing its port and every connection) when
/// dropped.
pub struct FaultProxy {
    endpoint: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream`
    /// (`http://127.0.0.1:PORT`; loopback only).
    pub fn start(upstream: &str, cfg: FaultConfig) -> Self {
        let authority = upstream.strip_prefix("http://").unwrap_or(upstream).trim_end_matches('/');
        let upstream: SocketAddr =
            authority.parse().unwrap_or_else(|e| panic!("upstream {upstream:?} is not http://IP:PORT ({e})"));
        assert!(upstream.ip().is_loopback(), "the proxy forwards to loopback only, not {upstream}");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the proxy");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let shared = Arc::new(Shared::new(cfg, upstream));
        let (tx, rx) = oneshot::channel();
        let runtime_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hoist-fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(accept_loop(listener, runtime_shared, rx));
                rt.shutdown_background();
            })
            .expect("spawn the proxy thread");
        Self { endpoint, shared, shutdown: Some(tx), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every exchange so far, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let mut all = self.shared.log.lock().unwrap().clone();
        all.sort_by_key(|e| e.seq);
        all
    }

    /// How many requests arrived (answered, faulted or refused).
    pub fn arrivals(&self) -> usize {
        self.shared.arrivals.load(Ordering::SeqCst)
    }

    /// Whether `stop_after` has been reached and the proxy refuses requests.
    pub fn stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The longest chain of exchanges each of which arrived after the previous
/// one's response was written: the requests that ran one after another.
/// Its length is the number of round trips no concurrency overlapped. (A
/// chain is found from timing alone; where several fit, each link is the
/// request answered last before the next one arrived.)
pub fn sequential_chain(exchanges: &[Exchange]) -> Vec<Exchange> {
    let (sorted, best) = chains(exchanges);
    let Some(mut at) = (0..sorted.len()).max_by_key(|&i| best[i].0) else { return Vec::new() };
    let mut chain = vec![sorted[at].clone()];
    while let Some(p) = best[at].1 {
        chain.push(sorted[p].clone());
        at = p;
    }
    chain.reverse();
    chain
}

/// Each exchange's level: the length of the longest sequential chain
/// ending with it (1: nothing answered before it arrived). Exchanges of
/// one level ran concurrently, as far as timing shows. In `exchanges`'
/// order.
pub fn levels(exchanges: &[Exchange]) -> Vec<usize> {
    let (sorted, best) = chains(exchanges);
    exchanges
        .iter()
        .map(|e| sorted.iter().position(|s| std::ptr::eq(*s, e)).map_or(0, |i| best[i].0))
        .collect()
}

/// Exchanges by arrival, and for each the longest chain ending with it:
/// (length, previous link).
fn chains(exchanges: &[Exchange]) -> (Vec<&Exchange>, Vec<(usize, Option<usize>)>) {
    let mut sorted: Vec<&Exchange> = exchanges.iter().collect();
    sorted.sort_by_key(|e| e.arrived);
    let mut best: Vec<(usize, Option<usize>)> = Vec::with_capacity(sorted.len());
    for (i, e) in sorted.iter().enumerate() {
        // Of the longest chains it can extend, the one whose last answer
        // came latest: most likely the answer this request waited for.
        let prev = (0..i).filter(|&j| sorted[j].finished <= e.arrived).max_by_key(|&j| (best[j].0, sorted[j].finished));
        best.push((prev.map_or(1, |j| best[j].0 + 1), prev));
    }
    (sorted, best)
}

async fn accept_loop(listener: std::net::TcpListener, shared: Arc<Shared>, mut shutdown: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = shared.stop.notified() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                if shared.stopped.load(Ordering::SeqCst) {
                    reset(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, shared.clone()));
            }
        }
    }
    // Stopped: close the port, so every later connection is refused.
    drop(listener);
    let _ = shutdown.await;
}

/// Close with RST rather than FIN: the client sees "connection reset".
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// A byte stream with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

const MAX_HEAD: usize = 64 * 1024;

impl Conn {
    fn new(stream: TcpStream) -> Self {
        Self { stream, buf: Vec::new() }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Bytes up to and including the blank line ending a head. `None` if
    /// the peer closed before sending a byte.
    async fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..end + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "HTTP head too large"));
            }
            if self.fill().await? == 0 {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(io::ErrorKind::UnexpectedEof.into()),
                };
            }
        }
    }

    async fn read_exact(&mut self, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        out.extend(self.buf.drain(..n));
        Ok(())
    }

    async fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                out.extend_from_slice(&line);
                return Ok(line);
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// A chunked body, raw (sizes, extensions and trailers included).
    async fn read_chunked(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            let line = self.read_line(out).await?;
            let text = String::from_utf8_lossy(&line);
            let size = text.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size.trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("bad chunk size {size:?}")))?;
            if size == 0 {
                // Trailers, then the blank line.
                while self.read_line(out).await? != b"\r\n" {}
                return Ok(());
            }
            self.read_exact(size + 2, out).await?;
        }
    }

    async fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        while self.fill().await? > 0 {}
        out.append(&mut self.buf);
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed head: the start line's parts and the headers.
struct Head {
    start: Vec<String>,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> io::Result<Self> {
        let text = String::from_utf8_lossy(raw);
        let mut lines = text.split("\r\n");
        let start: Vec<String> = lines.next().unwrap_or("").splitn(3, ' ').map(str::to_owned).collect();
        if start.len() < 2 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad HTTP start line"));
        }
        let headers = lines
            .filter(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
            .collect();
        Ok(Self { start, headers })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    fn content_length(&self) -> io::Result<Option<usize>> {
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")),
        }
    }

    fn chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }
}

/// Whether a response on this connection leaves it open for the next one.
fn keeps_alive(head: &Head) -> bool {
    let version = head.start[0].as_str();
    if head.has_token("connection", "close") {
        return false;
    }
    version != "HTTP/1.0" || head.has_token("connection", "keep-alive")
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let mut client = Conn::new(stream);
    let mut upstream: Option<Conn> = None;
    loop {
        let Ok(Some(raw_head)) = client.read_head().await else { return };
        let Ok(head) = Head::parse(&raw_head) else { return };
        let mut request = raw_head;
        let body_start = request.len();
        let body = match (head.chunked(), head.content_length()) {
            (true, _) => client.read_chunked(&mut request).await,
            (false, Ok(Some(n))) => client.read_exact(n, &mut request).await,
            (false, Ok(None)) => Ok(()),
            (false, Err(e)) => Err(e),
        };
        if body.is_err() {
            return;
        }
        let seq = shared.arrivals.fetch_add(1, Ordering::SeqCst) + 1;
        let arrived = shared.epoch.elapsed();
        let method = head.start[0].clone();
        let target = head.start[1].clone();
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let service = service_of(&head, &query);
        let operation = operation_of(&head, &service, &method, &path, &query, &request[body_start..]);
        let identity = identity_of(&[method.as_bytes(), target.as_bytes(), service.as_bytes(), operation.as_bytes(), &request[body_start..]]);
        let mut exchange = Exchange {
            seq,
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            service: service.clone(),
            operation: operation.clone(),
            status: None,
            upstream_status: None,
            injected: None,
            identity,
            refused: false,
            arrived,
            finished: arrived,
        };

        if shared.cfg.stop_after.is_some_and(|n| seq > n) {
            if !shared.stopped.swap(true, Ordering::SeqCst) {
                shared.stop.notify_one();
            }
            exchange.refused = true;
            shared.log.lock().unwrap().push(exchange);
            reset(client.stream);
            return;
        }

        let delay = shared.cfg.service_latency.get(&service).copied().unwrap_or(shared.cfg.latency);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = scripted(&shared, &operation).or_else(|| decide(&shared, identity));
        exchange.injected = fault;
        let is_head = method.eq_ignore_ascii_case("HEAD");

        match fault {
            Some(Fault::Reset) => {
                exchange.finished = shared.epoch.elapsed();
                shared.log.lock().unwrap().push(exchange);
                reset(client.stream);
                return;
            }
            Some(f @ (Fault::Throttle | Fault::InternalError | Fault::ServiceUnavailable | Fault::NoCapacity)) => {
                let (status, response) = fault_response(f, &service, &operation, is_head, seq);
                let written = client.stream.write_all(&response).await;
                exchange.status = written.is_ok().then_some(status);
                exchange.finished = shared.epoch.elapsed();
                shared.log.lock().unwrap().push(exchange);
                if written.is_err() {
                    return;
                }
                continue;
            }
            Some(Fault::LostResponse) | None => {}
        }

        // Forward, byte for byte, on this client connection's own upstream
        // connection (opened on first use, again after the emulator closed it).
        let forwarded = forward(&shared, &mut upstream, &request, is_head).await;
        let Ok((status, response, upstream_open)) = forwarded else {
            exchange.finished = shared.epoch.elapsed();
            shared.log.lock().unwrap().push(exchange);
            reset(client.stream);
            return;
        };
        exchange.upstream_status = Some(status);
        if fault == Some(Fault::LostResponse) {
            exchange.finished = shared.epoch.elapsed();
            shared.log.lock().unwrap().push(exchange);
            reset(client.stream);
            return;
        }
        let written = client.stream.write_all(&response).await;
        exchange.status = written.is_ok().then_some(status);
        exchange.finished = shared.epoch.elapsed();
        shared.log.lock().unwrap().push(exchange);
        if written.is_err() {
            return;
        }
        if !upstream_open {
            // The emulator ended the connection (HTTP/1.0 or
            // `Connection: close`): its response said so, and the client
            // expects this connection to end too.
            let _ = client.stream.shutdown().await;
            return;
        }
    }
}

/// Send `request` upstream and read the whole response. Returns its
/// status, its raw bytes, and whether the upstream connection stays open.
async fn forward(shared: &Shared, upstream: &mut Option<Conn>, request: &[u8], is_head: bool) -> io::Result<(u16, Vec<u8>, bool)> {
    // A kept-alive connection the emulator has since closed fails on first
    // use; then one fresh connection is tried (nothing was processed).
    for attempt in 0..2 {
        let reused = upstream.is_some();
        if upstream.is_none() {
            let s = TcpStream::connect(shared.upstream).await?;
            let _ = s.set_nodelay(true);
            *upstream = Some(Conn::new(s));
        }
        let conn = upstream.as_mut().expect("connected");
        let sent = conn.stream.write_all(request).await;
        let head = match sent {
            Ok(()) => conn.read_head().await,
            Err(e) => Err(e),
        };
        let raw_head = match head {
            Ok(Some(h)) => h,
            Ok(None) | Err(_) if reused && attempt == 0 => {
                *upstream = None;
                continue;
            }
            Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Err(e) => return Err(e),
        };
        let head = Head::parse(&raw_head)?;
        let status: u16 = head.start[1].parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad status"))?;
        let mut response = raw_head;
        let mut open = keeps_alive(&head);
        if is_head || status / 100 == 1 || status == 204 || status == 304 {
            // No body.
        } else if head.chunked() {
            conn.read_chunked(&mut response).await?;
        } else if let Some(n) = head.content_length()? {
            conn.read_exact(n, &mut response).await?;
        } else {
            conn.read_to_end(&mut response).await?;
            open = false;
        }
        if !open {
            *upstream = None;
        }
        return Ok((status, response, open));
    }
    Err(io::ErrorKind::UnexpectedEof.into())
}

/// The scripted fault for this request of `operation`, if any.
fn scripted(shared: &Shared, operation: &str) -> Option<Fault> {
    if shared.cfg.scripted.is_empty() {
        return None;
    }
    let nth = {
        let mut seen = shared.operations.lock().unwrap();
        let n = seen.entry(operation.to_string()).or_insert(0);
        *n += 1;
        *n
    };
    shared.cfg.scripted.iter().find(|(op, n, _)| op == operation && *n == nth).map(|(_, _, f)| *f)
}

/// Whether this request gets a fault, and which. Deterministic in the seed
/// and the request's identity and occurrence.
fn decide(shared: &Shared, identity: u64) -> Option<Fault> {
    let cfg = &shared.cfg;
    if cfg.fault_rate <= 0.0 {
        return None;
    }
    let nth = {
        let mut seen = shared.occurrences.lock().unwrap();
        let n = seen.entry(identity).or_insert(0);
        *n += 1;
        *n
    };
    let h = splitmix(splitmix(cfg.seed ^ identity) ^ nth);
    let roll = (h >> 11) as f64 / (1u64 << 53) as f64;
    if roll >= cfg.fault_rate {
        return None;
    }
    let kinds = if cfg.faults.is_empty() { Fault::TRANSIENT } else { &cfg.faults[..] };
    Some(kinds[(splitmix(h) % kinds.len() as u64) as usize])
}

/// FNV-1a over the parts (each followed by a separator), mixed.
fn identity_of(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&[0xff]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix(h)
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The SigV4 credential scope's service: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
fn service_of(head: &Head, query: &str) -> String {
    let credential = head
        .header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split(',').next().unwrap_or("").to_string())
        .or_else(|| param(query, "X-Amz-Credential").map(|c| c.replace("%2F", "/").replace("%2f", "/")));
    credential.and_then(|c| c.split('/').nth(3).map(str::to_owned)).unwrap_or_default()
}

/// A form or query parameter's raw value.
fn param<'a>(form: &'a str, name: &str) -> Option<&'a str> {
    form.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

fn operation_of(head: &Head, service: &str, method: &str, path: &str, query: &str, body: &[u8]) -> String {
    if let Some(target) = head.header("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if service == "s3" {
        return s3_operation(head, method, path, query);
    }
    if let Some(action) = param(query, "Action") {
        return action.to_string();
    }
    let form = head.header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form && let Ok(text) = std::str::from_utf8(body) {
        return param(text, "Action").unwrap_or("").to_string();
    }
    String::new()
}

/// The S3 operation, from method, path (path-style addressing) and
/// sub-resource. Covers what hoist sends; anything else is `METHOD sub`.
fn s3_operation(head: &Head, method: &str, path: &str, query: &str) -> String {
    let keys: Vec<&str> = query.split('&').filter(|kv| !kv.is_empty()).map(|kv| kv.split('=').next().unwrap_or("")).collect();
    let has = |k: &str| keys.contains(&k);
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').filter(|s| !s.is_empty()).collect();
    let verb = match method {
        "GET" => "Get",
        "PUT" => "Put",
        "DELETE" => "Delete",
        "HEAD" => "Head",
        "POST" => "Post",
        _ => method,
    };
    let op = match segments.len() {
        0 => (method == "GET").then(|| "ListBuckets".to_string()),
        1 => {
            let named = [
                ("tagging", "BucketTagging"),
                ("publicAccessBlock", "PublicAccessBlock"),
                ("encryption", "BucketEncryption"),
                ("policy", "BucketPolicy"),
                ("ownershipControls", "BucketOwnershipControls"),
                ("versioning", "BucketVersioning"),
                ("acl", "BucketAcl"),
                ("cors", "BucketCors"),
            ];
            if let Some((_, name)) = named.iter().find(|(k, _)| has(k)) {
                Some(format!("{verb}{name}"))
            } else if has("lifecycle") {
                Some(if method == "DELETE" { "DeleteBucketLifecycle".into() } else { format!("{verb}BucketLifecycleConfiguration") })
            } else if has("location") {
                Some("GetBucketLocation".into())
            } else if has("versions") {
                Some("ListObjectVersions".into())
            } else if has("uploads") {
                Some("ListMultipartUploads".into())
            } else if has("delete") && method == "POST" {
                Some("DeleteObjects".into())
            } else {
                match method {
                    "PUT" => Some("CreateBucket".into()),
                    "DELETE" => Some("DeleteBucket".into()),
                    "HEAD" => Some("HeadBucket".into()),
                    "GET" if has("list-type") => Some("ListObjectsV2".into()),
                    "GET" => Some("ListObjects".into()),
                    _ => None,
                }
            }
        }
        _ => {
            if has("uploadId") {
                Some(match method {
                    "PUT" => "UploadPart".into(),
                    "POST" => "CompleteMultipartUpload".into(),
                    "DELETE" => "AbortMultipartUpload".into(),
                    "GET" => "ListParts".into(),
                    _ => format!("{verb}Object"),
                })
            } else if has("uploads") && method == "POST" {
                Some("CreateMultipartUpload".into())
            } else if has("tagging") {
                Some(format!("{verb}ObjectTagging"))
            } else if method == "PUT" && head.header("x-amz-copy-source").is_some() {
                Some("CopyObject".into())
            } else {
                Some(format!("{verb}Object"))
            }
        }
    };
    op.unwrap_or_else(|| format!("{method} {}", keys.join("&")))
}

/// The bytes of an injected error response, shaped as `service`'s
/// protocol shapes errors so that the SDK reads its code.
fn fault_response(fault: Fault, service: &str, operation: &str, is_head: bool, seq: usize) -> (u16, Vec<u8>) {
    let request_id = format!("hoist-fault-proxy-{seq:06}");
    let json = matches!(service, "logs" | "monitoring" | "dynamodb" | "sagemaker" | "ecr" | "secretsmanager" | "kms");
    let (status, code, message) = match (fault, service, json) {
        (Fault::Throttle, "s3", _) => (503, "SlowDown", "Please reduce your request rate."),
        (Fault::Throttle, "ec2", _) => (503, "RequestLimitExceeded", "Request limit exceeded."),
        (Fault::Throttle, _, true) => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttle, _, false) => (400, "Throttling", "Rate exceeded"),
        (Fault::InternalError, _, true) => (500, "InternalFailure", "The request processing has failed because of an unknown error."),
        (Fault::InternalError, _, false) => (500, "InternalError", "We encountered an internal error. Please try again."),
        (Fault::ServiceUnavailable, _, true) => (503, "ServiceUnavailableException", "The service is unavailable. Please try again later."),
        (Fault::ServiceUnavailable, _, false) => (503, "ServiceUnavailable", "Service is unable to handle request."),
        (Fault::NoCapacity, ..) => (500, "InsufficientInstanceCapacity", "We currently do not have sufficient capacity in the Availability Zone you requested."),
        (f, ..) => unreachable!("{f:?} has no response"),
    };
    let (content_type, body) = if json {
        ("application/x-amz-json-1.1", format!(r#"{{"__type":"{code}","message":"{message}"}}"#))
    } else if service == "s3" {
        ("application/xml", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"))
    } else if service == "ec2" {
        ("text/xml;charset=UTF-8", format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"))
    } else {
        // awsQuery (IAM, STS): the standard error shape.
        let kind = if status < 500 { "Sender" } else { "Receiver" };
        ("text/xml", format!("<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message} ({operation})</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"))
    };
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let body = if is_head { String::new() } else { body };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\nx-amzn-requestid: {request_id}\r\nx-amz-request-id: {request_id}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    (status, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(seq: usize, arrived: u64, finished: u64) -> Exchange {
        Exchange {
            seq,
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            service: "iam".into(),
            operation: format!("Op{seq}"),
            status: Some(200),
            upstream_status: Some(200),
            injected: None,
            identity: seq as u64,
            refused: false,
            arrived: Duration::from_millis(arrived),
            finished: Duration::from_millis(finished),
        }
    }

    #[test]
    fn the_sequential_chain_skips_overlapping_requests() {
        // 1 ; then 2 and 3 concurrently ; then 4 after 3.
        let all = [ex(1, 0, 10), ex(2, 11, 20), ex(3, 11, 30), ex(4, 31, 40)];
        let chain: Vec<usize> = sequential_chain(&all).iter().map(|e| e.seq).collect();
        assert_eq!(chain, [1, 3, 4]);
        assert_eq!(levels(&all), [1, 2, 2, 3]);
        assert!(sequential_chain(&[]).is_empty());
    }

    #[test]
    fn s3_operations_are_named_from_the_request() {
        let head = Head { start: vec!["PUT".into(), "/b".into()], headers: vec![] };
        assert_eq!(s3_operation(&head, "PUT", "/b", "tagging"), "PutBucketTagging");
        assert_eq!(s3_operation(&head, "PUT", "/b", ""), "CreateBucket");
        assert_eq!(s3_operation(&head, "HEAD", "/b", ""), "HeadBucket");
        assert_eq!(s3_operation(&head, "GET", "/b", "lifecycle"), "GetBucketLifecycleConfiguration");
        assert_eq!(s3_operation(&head, "POST", "/b", "delete"), "DeleteObjects");
        assert_eq!(s3_operation(&head, "GET", "/b", "versions"), "ListObjectVersions");
        assert_eq!(s3_operation(&head, "DELETE", "/b/k/x", "uploadId=1"), "AbortMultipartUpload");
    }

    #[test]
    fn fault_decisions_depend_on_the_seed_only() {
        let shared = |seed| Shared::new(FaultConfig::default().faults(0.2, seed, &[]), "127.0.0.1:1".parse().unwrap());
        let run = |seed| {
            let s = shared(seed);
            (0..1000).map(|i| decide(&s, identity_of(&[format!("Op{}", i % 7).as_bytes()]))).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|f| f.is_some()).count();
        assert!((150..250).contains(&hits), "about 20%: {hits}");
    }
}
