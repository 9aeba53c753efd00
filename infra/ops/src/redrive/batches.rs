//! Packing messages into `SendMessageBatch` calls that SQS accepts.

/// Most entries in one batch.
pub const MAX_ENTRIES: usize = 10;
/// Most bytes of message bodies in one batch: SQS's limit for the batch as a whole, the same as for one message.
pub const MAX_BYTES: usize = 1_048_576;

/// Splits messages of the given body sizes, in order, into batches of at most [`MAX_ENTRIES`] and [`MAX_BYTES`].
/// A message alone over the limit gets a batch of its own, for SQS to refuse it and leave it where it is.
pub fn pack(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, size) in sizes.iter().enumerate() {
        let full = index - start == MAX_ENTRIES || bytes + size > MAX_BYTES;
        if index > start && full {
            batches.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        batches.push(start..sizes.len());
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_messages_go_ten_at_a_time() {
        assert_eq!(pack(&[100; 23]), [0..10, 10..20, 20..23]);
    }

    #[test]
    fn large_messages_go_as_many_as_fit_in_a_mebibyte() {
        assert_eq!(pack(&[400_000; 5]), [0..2, 2..4, 4..5]);
        assert_eq!(pack(&[MAX_BYTES, 1, MAX_BYTES]), [0..1, 1..2, 2..3]);
        assert_eq!(pack(&[MAX_BYTES / 2, MAX_BYTES / 2, 1]), [0..2, 2..3]);
    }

    #[test]
    fn a_message_over_the_limit_is_sent_alone_and_nothing_is_dropped() {
        assert_eq!(pack(&[1, MAX_BYTES + 1, 1]), [0..1, 1..2, 2..3]);
        assert_eq!(pack(&[]), Vec::<std::ops::Range<usize>>::new());
    }
}
