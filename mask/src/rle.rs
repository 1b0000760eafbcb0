//! Run-length encoding of mask bytes: a mask is long runs of 0 and 255, so a change to it is
//! kept in a few bytes, not one per pixel.

/// `(value, run length)` pairs, each run at most `u32::MAX`.
pub(crate) fn encode(bytes: &[u8]) -> Vec<(u8, u32)> {
    let mut runs: Vec<(u8, u32)> = Vec::new();
    for &b in bytes {
        match runs.last_mut() {
            Some((v, n)) if *v == b && *n < u32::MAX => *n += 1,
            _ => runs.push((b, 1)),
        }
    }
    runs
}

pub(crate) fn decode(runs: &[(u8, u32)]) -> Vec<u8> {
    let len: usize = runs.iter().map(|&(_, n)| n as usize).sum();
    let mut out = Vec::with_capacity(len);
    for &(v, n) in runs {
        out.resize(out.len() + n as usize, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip_and_are_short_for_masks() {
        let mut bytes = vec![0u8; 10_000];
        bytes[4_000..6_000].fill(255);
        let runs = encode(&bytes);
        assert_eq!(runs, vec![(0, 4_000), (255, 2_000), (0, 4_000)]);
        assert_eq!(decode(&runs), bytes);
        assert!(encode(&[]).is_empty() && decode(&[]).is_empty());
    }
}
