//! Packing log events into PutLogEvents batches within CloudWatch's limits:
//! at most 10,000 events and 1,048,576 bytes per batch (each event's UTF-8
//! message plus 26 bytes), events of at most 256 KiB including those 26
//! bytes, in non-decreasing timestamp order, spanning at most 24 hours.
//! Pure logic, so the limits are tested without a server.

use hoist_aws::logs::Event;

pub const MAX_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const EVENT_OVERHEAD: usize = 26;
pub const MAX_EVENT_BYTES: usize = 262_144 - EVENT_OVERHEAD;
pub const MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Default)]
pub struct Batcher {
    events: Vec<Event>,
    bytes: usize,
}

impl Batcher {
    /// Add an event. If it does not fit, the batch so far is returned (to
    /// send now) and the event starts the next one. Messages longer than
    /// the limit are split beforehand (see [`split_message`]).
    pub fn push(&mut self, mut event: Event) -> Option<Vec<Event>> {
        debug_assert!(event.message.len() <= MAX_EVENT_BYTES);
        // Timestamps must not go backwards within a batch (a clock step
        // can do that); clamp rather than reorder, to keep line order.
        if let Some(last) = self.events.last() {
            event.timestamp_ms = event.timestamp_ms.max(last.timestamp_ms);
        }
        let size = event.message.len() + EVENT_OVERHEAD;
        let full = !self.events.is_empty()
            && (self.events.len() >= MAX_EVENTS
                || self.bytes + size > MAX_BATCH_BYTES
                || event.timestamp_ms - self.events[0].timestamp_ms > MAX_SPAN_MS);
        let ready = if full { self.take() } else { None };
        self.bytes += size;
        self.events.push(event);
        ready
    }

    /// The events not yet sent, if any.
    pub fn take(&mut self) -> Option<Vec<Event>> {
        if self.events.is_empty() {
            return None;
        }
        self.bytes = 0;
        Some(std::mem::take(&mut self.events))
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Split a line into pieces of at most `max` bytes on character
/// boundaries (an empty line stays one empty piece).
pub fn split_message(line: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = line;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces.push(rest);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: i64, len: usize) -> Event {
        Event { timestamp_ms: t, message: "x".repeat(len) }
    }

    fn drain(batcher: &mut Batcher, events: Vec<Event>) -> Vec<Vec<Event>> {
        let mut batches: Vec<Vec<Event>> = events.into_iter().filter_map(|e| batcher.push(e)).collect();
        batches.extend(batcher.take());
        batches
    }

    fn assert_within_limits(batches: &[Vec<Event>]) {
        for b in batches {
            assert!(!b.is_empty() && b.len() <= MAX_EVENTS);
            assert!(b.iter().map(|e| e.message.len() + EVENT_OVERHEAD).sum::<usize>() <= MAX_BATCH_BYTES);
            assert!(b.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
            assert!(b.last().unwrap().timestamp_ms - b[0].timestamp_ms <= MAX_SPAN_MS);
        }
    }

    #[test]
    fn splits_on_event_count() {
        let batches = drain(&mut Batcher::default(), (0..25_000).map(|i| ev(i, 1)).collect());
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![10_000, 10_000, 5_000]);
        assert_within_limits(&batches);
    }

    #[test]
    fn splits_on_bytes() {
        let batches = drain(&mut Batcher::default(), (0..100).map(|i| ev(i, 100_000)).collect());
        assert_within_limits(&batches);
        assert_eq!(batches[0].len(), 10); // 10 x 100,026 fits, 11 does not
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 100);
    }

    #[test]
    fn splits_on_24_hour_span_and_clamps_backward_time() {
        let events = vec![ev(1_000, 1), ev(500, 1), ev(1_000 + MAX_SPAN_MS + 1, 1)];
        let batches = drain(&mut Batcher::default(), events);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0][1].timestamp_ms, 1_000, "clamped, order kept");
        assert_within_limits(&batches);
    }

    #[test]
    fn long_lines_split_on_char_boundaries() {
        let line = "é".repeat(200_000); // 400,000 bytes
        let pieces = split_message(&line, MAX_EVENT_BYTES);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| p.len() <= MAX_EVENT_BYTES));
        assert_eq!(pieces.concat(), line);
        assert_eq!(split_message("", 10), vec![""]);
    }
}
