//! A deterministic random sequence for the randomised unit tests (no dependency).

/// xorshift64 from `seed`: each call yields a number below `below`.
pub(crate) fn below(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % below as u64).unwrap_or(0)
    }
}
