"""Length-bucketed batches: little padding, same examples, same task mix.

A left-padded batch costs as much as its longest row times its size. When example lengths vary, random
batches waste much of that on padding. :class:`LengthBucketedSampler` draws a chunk of ``chunk_batches``
batches' worth of examples from the ordinary sampler (so task mixing and "each example once per pass" are
unchanged), sorts the chunk by token length, cuts it into batches of similar lengths, and hands those batches
out in a seeded random order. Chunks are drawn at random, so the order across length buckets stays random
from epoch to epoch; within a chunk, ties keep the random draw order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from soft_prompts.sampling import MixedTaskSampler

__all__ = ["LengthBucketedSampler", "padding_fraction"]


class LengthBucketedSampler:
    """Batches of ``(task_id, example_index)`` pairs whose rows have similar token lengths.

    Args:
        sampler: the ordinary sampler the examples are drawn from.
        lengths: ``lengths[task_id][index]`` is the example's token count (input plus target).
        chunk_batches: batches per length-sorted chunk (fewer when the training set holds fewer examples);
            1 would sort within one batch only (no gain).
        seed: seeds the order in which a chunk's batches are handed out.

    Raises:
        ValueError: ``chunk_batches`` < 1, or ``lengths`` does not match the sampler's task sizes.
    """

    def __init__(
        self, sampler: MixedTaskSampler, lengths: Sequence[Sequence[int]], chunk_batches: int, seed: int
    ) -> None:
        if chunk_batches < 1:
            raise ValueError(f"LengthBucketedSampler: chunk_batches must be >= 1, got {chunk_batches}")
        if [len(task_lengths) for task_lengths in lengths] != list(sampler.sizes):
            raise ValueError("LengthBucketedSampler: lengths do not match the sampler's task sizes")
        self.sampler = sampler
        self.lengths = [list(task_lengths) for task_lengths in lengths]
        self.chunk_batches = chunk_batches
        self._generator = torch.Generator().manual_seed(seed)
        self._queue: list[list[tuple[int, int]]] = []
        self._batch_size: int | None = None

    def _refill(self, batch_size: int) -> None:
        # A chunk no larger than the training set: a chunk of two passes over a small set would put both
        # copies of an example (same length) side by side, in one batch.
        chunk_batches = max(1, min(self.chunk_batches, sum(self.sampler.sizes) // batch_size))
        drawn = self.sampler.sample(batch_size * chunk_batches)
        # Repeats that remain (a chunk across a pass boundary, a small task drawn often) sort after every
        # first occurrence, so they mostly land in other batches. sorted() is stable: ties keep the random
        # draw order.
        counts: dict[tuple[int, int], int] = {}
        keyed = []
        for pair in drawn:
            keyed.append((counts.get(pair, 0), self.lengths[pair[0]][pair[1]], pair))
            counts[pair] = counts.get(pair, 0) + 1
        ordered = [pair for _, _, pair in sorted(keyed, key=lambda item: item[:2])]
        batches = [ordered[start : start + batch_size] for start in range(0, len(ordered), batch_size)]
        order = torch.randperm(len(batches), generator=self._generator).tolist()
        self._queue = [batches[index] for index in order]

    def sample(self, batch_size: int) -> list[tuple[int, int]]:
        """One batch of ``batch_size`` pairs (the same interface as :class:`MixedTaskSampler`)."""
        if batch_size != self._batch_size:
            self._queue, self._batch_size = [], batch_size
        if not self._queue:
            self._refill(batch_size)
        return self._queue.pop()


def padding_fraction(batch_lengths: Sequence[Sequence[int]]) -> float:
    """Share of the padded positions of left-padded batches that are padding.

    Args:
        batch_lengths: per batch, the token count of each row.

    Returns:
        A value in ``[0, 1)``: ``1 - real tokens / (rows x longest row)`` summed over batches (0: no padding).
    """
    real = sum(sum(lengths) for lengths in batch_lengths)
    padded = sum(len(lengths) * max(lengths) for lengths in batch_lengths if lengths)
    return 1.0 - real / padded if padded else 0.0
