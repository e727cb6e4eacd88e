"""Alert identity as Alertmanager computes it, so identities match across intake paths."""

from __future__ import annotations

from collections.abc import Mapping

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = 0xFFFFFFFFFFFFFFFF
_SEPARATOR = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """FNV-1a 64-bit over the sorted label pairs, each name and value followed by 0xff,
    printed as 16 hex digits: prometheus/common's LabelSet.Fingerprint()."""
    h = _FNV_OFFSET
    for name in sorted(labels, key=lambda n: n.encode()):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ _SEPARATOR) * _FNV_PRIME) & _MASK
    return f"{h:016x}"
