//! A server-sent-events decoder for Gemini's `alt=sse` streams.
//!
//! Each event is `data: <one whole JSON answer>` and a blank line. Gemini frames with CRLF;
//! LF and CR alone are accepted too. One event can be tens of megabytes (a 4K image arrives
//! whole on one line), so the decoder never rescans what it has already looked at, and caps an
//! event's size instead of a line's.

/// Incremental decoder: push bytes as they arrive, take out complete events' data.
#[derive(Debug)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// Where scanning resumes: everything before it holds no event boundary.
    pos: usize,
    /// Start of the line being scanned.
    line_start: usize,
    max_event_bytes: usize,
}

/// The stream broke the framing rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event is larger than {0} bytes")]
    EventTooLarge(usize),
}

impl SseDecoder {
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            line_start: 0,
            max_event_bytes,
        }
    }

    /// Adds bytes and returns the data of every event they complete.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Vec<u8>>, SseError> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.find_boundary() {
            let rest = self.buf.split_off(end);
            let event = std::mem::replace(&mut self.buf, rest);
            self.pos = 0;
            self.line_start = 0;
            if let Some(data) = event_data(&event) {
                events.push(data);
            }
        }
        if self.buf.len() > self.max_event_bytes {
            return Err(SseError::EventTooLarge(self.max_event_bytes));
        }
        Ok(events)
    }

    /// Ends the stream: an unterminated last event still counts.
    pub fn finish(self) -> Option<Vec<u8>> {
        event_data(&self.buf)
    }

    /// Scans for a blank line; returns the index just past it.
    fn find_boundary(&mut self) -> Option<usize> {
        let buf = &self.buf;
        while self.pos < buf.len() {
            let byte = buf[self.pos];
            if byte != b'\n' && byte != b'\r' {
                self.pos += 1;
                continue;
            }
            // A CR at the very end may be the first half of CRLF: wait for the next byte.
            let terminator_len = if byte == b'\r' {
                match buf.get(self.pos + 1) {
                    None => return None,
                    Some(b'\n') => 2,
                    Some(_) => 1,
                }
            } else {
                1
            };
            let line_is_empty = self.pos == self.line_start;
            self.pos += terminator_len;
            self.line_start = self.pos;
            if line_is_empty {
                return Some(self.pos);
            }
        }
        None
    }
}

/// The data of one event: its `data:` lines joined by `\n`, or `None` when it has none.
fn event_data(event: &[u8]) -> Option<Vec<u8>> {
    let mut data: Option<Vec<u8>> = None;
    for line in event.split(|b| *b == b'\n' || *b == b'\r') {
        let Some(value) = line.strip_prefix(b"data:") else {
            continue;
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match &mut data {
            None => data = Some(value.to_vec()),
            Some(d) => {
                d.push(b'\n');
                d.extend_from_slice(value);
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], chunk: usize) -> Vec<String> {
        let mut d = SseDecoder::new(1 << 20);
        let mut out = Vec::new();
        for c in input.chunks(chunk) {
            out.extend(d.push(c).unwrap());
        }
        out.extend(d.finish());
        out.into_iter()
            .map(|e| String::from_utf8(e).unwrap())
            .collect()
    }

    #[test]
    fn crlf_lf_and_cr_framing_all_work() {
        for sep in ["\r\n", "\n", "\r"] {
            let input = format!("data: {{\"a\":1}}{sep}{sep}data: {{\"b\":2}}{sep}{sep}");
            for chunk in [1, 2, 3, 7, 1000] {
                assert_eq!(
                    decode_all(input.as_bytes(), chunk),
                    vec!["{\"a\":1}", "{\"b\":2}"],
                    "sep {sep:?} chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_terminator() {
        let mut d = SseDecoder::new(1024);
        assert!(d.push(b"data: x\r").unwrap().is_empty());
        assert!(d.push(b"\n").unwrap().is_empty());
        assert!(d.push(b"\r").unwrap().is_empty());
        assert_eq!(d.push(b"\n").unwrap(), vec![b"x".to_vec()]);
    }

    #[test]
    fn comments_and_other_fields_are_ignored_and_data_lines_join() {
        let input = b": keep-alive\n\nevent: x\ndata: one\ndata: two\nid: 3\n\n";
        assert_eq!(decode_all(input, 5), vec!["one\ntwo"]);
    }

    #[test]
    fn an_unterminated_last_event_is_kept() {
        assert_eq!(decode_all(b"data: {}\n\ndata: last", 4), vec!["{}", "last"]);
    }

    #[test]
    fn a_huge_single_event_passes_in_small_chunks() {
        let payload = "A".repeat(30 * 1024 * 1024);
        let input = format!("data: {payload}\r\n\r\n");
        let mut d = SseDecoder::new(64 * 1024 * 1024);
        let mut events = Vec::new();
        for c in input.as_bytes().chunks(16 * 1024) {
            events.extend(d.push(c).unwrap());
        }
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].len(), payload.len());
    }

    #[test]
    fn an_event_over_the_cap_is_an_error() {
        let mut d = SseDecoder::new(10);
        assert_eq!(
            d.push(b"data: 0123456789"),
            Err(SseError::EventTooLarge(10))
        );
    }
}
