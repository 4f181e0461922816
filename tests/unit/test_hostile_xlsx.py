"""Hostile workbooks (issue 10): refused as file errors by a reader in a bounded child
process, with the parent untouched and the child's memory bounded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from issuer.adapters import batchfile, xlsx, xlsx_child
from issuer.adapters.batchfile import BatchFileError, load_batch, read_rows
from issuer.core.records import Institution, InstitutionKind
from tests import hostile_xlsx
from verifier.sandbox import Limits

SCHOOL = Institution("1001", InstitutionKind.SCHOOL, "โรงเรียน", "School")
MB_KB = 1024


def test_the_entity_chain_crashes_a_bare_expat() -> None:
    """What the file does to an unguarded parser: the process dies (SIGSEGV)."""
    code = ("import sys, io, zipfile, xml.etree.ElementTree as E; "
            "E.fromstring(zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))"
            ".read('xl/sharedStrings.xml'))")
    done = subprocess.run([sys.executable, "-c", code], input=hostile_xlsx.entity_chain(),
                          capture_output=True, timeout=60, check=False)
    assert done.returncode < 0


@pytest.mark.parametrize(("make", "reason"), [
    (hostile_xlsx.entity_chain, "declares a DTD"),
    (hostile_xlsx.undefined_entity, "damaged"),
    (hostile_xlsx.shared_strings_bomb, "unpack to more than 50 MB"),
])
def test_hostile_workbooks_are_file_errors_read_in_a_bounded_child(make, reason) -> None:  # type: ignore[no-untyped-def]
    usage = xlsx_child.Usage()
    with pytest.raises(BatchFileError, match=reason) as info:
        list(read_rows(make(), isolate=True, usage=usage))
    assert info.value.error.row == 0
    assert usage.exit_code == 0  # the child answered; it did not die
    assert 0 < usage.peak_kb < 150 * MB_KB and usage.cpu_seconds < 10


def test_the_shared_strings_bomb_is_refused_in_process_too() -> None:
    (error,) = load_batch(hostile_xlsx.shared_strings_bomb(), SCHOOL).errors
    assert error.row == 0 and "unpack to more than" in error.reason_en


def test_inflated_bytes_are_counted_not_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget counts what the decompressor gives, whatever the ZIP declares."""
    data = hostile_xlsx.EXAMPLES.joinpath("school-batch.xlsx").read_bytes()
    monkeypatch.setattr(xlsx, "MAX_SHEET_INFLATED", 10_000)
    with pytest.raises(BatchFileError, match="worksheet unpacks to more than"):
        list(read_rows(data))
    monkeypatch.setattr(batchfile, "MAX_XLSX_UNPACKED", 10_000)
    with pytest.raises(BatchFileError, match="unpacks to more than"):
        list(read_rows(data))


def test_a_child_that_dies_is_a_file_error() -> None:
    """Out of memory (or time, or a crash): a clear error, never an exception."""
    data = hostile_xlsx.EXAMPLES.joinpath("school-batch.xlsx").read_bytes()
    usage = xlsx_child.Usage()
    with pytest.raises(xlsx_child.ChildFailed, match="could not be read within"):
        list(xlsx_child.read(data, [], limits=Limits(memory=20 * (1 << 20)), usage=usage))
    assert usage.exit_code != 0


def test_a_sound_workbook_reads_the_same_in_the_child() -> None:
    data = hostile_xlsx.EXAMPLES.joinpath("school-batch.xlsx").read_bytes()
    assert list(read_rows(data, isolate=True)) == list(read_rows(data))
    assert load_batch(data, SCHOOL, isolate=True) == load_batch(data, SCHOOL)
