"""Bring a copy of the store up to date by writing only what differs (``publish``'s spare).

A DuckDB file is three 4 KiB headers, then blocks of ``block_alloc_size`` bytes (256 KiB), each
starting with the 8-byte checksum of its content, which DuckDB writes with every block. So two
versions of a store that hold the same checksum at the start of a block hold the same block:
``update_in_place`` reads 8 bytes a block from each file (a few milliseconds for 3 GB, instead
of reading both files whole) and copies the blocks whose checksums differ.

It trusts that layout only where it can check it: both files carry DuckDB's magic and the same
block size in both database headers, and the store's size is a whole number of blocks. Then it
compares a sample of the blocks it skipped byte for byte; one that differs, or any other file,
and it compares the two files whole, chunk by chunk (about 0.5 s for 3 GB from the page cache).
"""

from __future__ import annotations

import os
import random
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# the main header, then the two database headers that DuckDB writes in turn
HEADER_BYTES = 3 * 4096
# in each database header: checksum, iteration, meta block, free list, block count, block size
_BLOCK_SIZE_AT = 40
# whole-file comparison: DuckDB's blocks are 256 KiB, so a chunk that differs is about a block
CHUNK_BYTES = 256 * 1024
# skipped blocks compared byte for byte before the checksums are trusted
SAMPLED_BLOCKS = 64


def update_in_place(src: Path, fd: int, workers: int = 2) -> int:
    """Make the file open read-write as ``fd`` byte-equal to ``src``; return the bytes written."""
    with open(src, "rb") as fin:
        size = os.fstat(fin.fileno()).st_size
        block = _block_size(fin.fileno(), size)
        written = None
        if block and _block_size(fd, None) == block:
            written = _by_checksum(fin.fileno(), fd, size, block)
        if written is None:
            written = _by_content(fin.fileno(), fd, size, workers)
    os.ftruncate(fd, size)
    return written


def _block_size(fd: int, size: int | None) -> int | None:
    """The block size of the DuckDB file open as ``fd``, if it has the layout above (and, with
    ``size``, that many bytes in whole blocks)."""
    head = os.pread(fd, HEADER_BYTES, 0)
    if len(head) < HEADER_BYTES or head[8:12] != b"DUCK":
        return None
    sizes = {struct.unpack_from("<Q", head, at + _BLOCK_SIZE_AT)[0] for at in (4096, 8192)}
    block = sizes.pop() if len(sizes) == 1 else 0
    if block < 4096 or block & (block - 1):
        return None
    if size is not None and (size - HEADER_BYTES) % block:
        return None
    return block


def _by_checksum(src: int, dst: int, size: int, block: int) -> int | None:
    """Copy the headers and the blocks whose checksums differ; None (nothing written) when a
    sampled block with the same checksum differs."""
    changed, same = [], []
    for offset in range(HEADER_BYTES, size, block):
        (same if os.pread(src, 8, offset) == os.pread(dst, 8, offset) else changed).append(offset)
    sample = random.sample(same, min(SAMPLED_BLOCKS, len(same)))
    if any(os.pread(src, block, at) != os.pread(dst, block, at) for at in sample):
        return None
    written = os.pwrite(dst, os.pread(src, HEADER_BYTES, 0), 0)
    for offset in changed:
        written += os.pwrite(dst, os.pread(src, block, offset), offset)
    return written


def _by_content(src: int, dst: int, size: int, workers: int) -> int:
    """Compare the files whole, chunk by chunk, in ``workers`` threads each taking a slice of
    the file; write the chunks that differ."""
    per_worker = -(-size // CHUNK_BYTES // workers) * CHUNK_BYTES or CHUNK_BYTES

    def compare(start: int) -> int:
        mine, theirs = bytearray(CHUNK_BYTES), bytearray(CHUNK_BYTES)
        written = 0
        for offset in range(start, min(size, start + per_worker), CHUNK_BYTES):
            n = os.preadv(src, [mine], offset)
            same = os.preadv(dst, [theirs], offset) == n and (
                mine == theirs if n == CHUNK_BYTES else mine[:n] == theirs[:n]
            )
            if not same:
                written += os.pwrite(dst, memoryview(mine)[:n], offset)
        return written

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(compare, range(0, size, per_worker)))
