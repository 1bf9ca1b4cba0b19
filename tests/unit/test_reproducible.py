"""Identical inputs, identical images: the pure parts (no engine) of issue 21's reproducible builds.

The engine's side (two builds from scratch giving one manifest digest) is tests/integration/test_rebuild.py."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from pyfamily import engine
from pyfamily.cli.pipeline import source_date_epoch
from pyfamily.errors import UserError
from pyfamily.kinds.python import released
from pyfamily.oci.index import ATTESTATION, OCI_INDEX, OCI_MANIFEST, REFERENCE_DIGEST, REFERENCE_TYPE, Index, sha256
from pyfamily.oci.local import remember_content
from pyfamily.produce.backend import top_index
from pyfamily.produce.scheduler import pin_times
from pyfamily.render.context import with_epoch
from pyfamily.verify.rebuild import Entry, config_differences, file_differences, layer_files

CLI = engine.BuildCli("docker", "26.1.5")


def request(**given: object) -> engine.BuildRequest:
    fields: dict[str, object] = {"log": Path("/work/logs/3.13.log"), **given}
    return engine.BuildRequest(
        "3.13", Path("/ctx"), ("p/python:3.13", "p/python:3.13-trixie"), ("linux/amd64",), **fields
    )  # type: ignore[arg-type]


def test_a_build_with_an_epoch_goes_through_an_oci_archive_with_rewritten_times():
    """dockerd's own exporter refuses rewrite-timestamp (it unpacks): the build writes an OCI archive instead, every
    tag named in one CSV field, and `docker load` takes it in."""
    command = CLI.command(request(epoch=1796177397))
    assert "--load" not in command
    output = command[command.index("--output") + 1]
    assert (
        output
        == 'type=oci,dest=/work/logs/3.13.oci.tar,"name=p/python:3.13,p/python:3.13-trixie",rewrite-timestamp=true'
    )
    assert "--build-arg=SOURCE_DATE_EPOCH=1796177397" in command
    assert CLI.load_command(request(epoch=1)) == ["docker", "load", "--input", "/work/logs/3.13.oci.tar"]


def test_a_build_without_an_epoch_loads_directly():
    command = CLI.command(request())
    assert command[:4] == ["docker", "buildx", "build", "--load"]
    assert not any("SOURCE_DATE_EPOCH" in word for word in command)
    assert CLI.load_command(request()) is None


def test_every_stage_declares_the_epoch_for_its_run_steps():
    text = "# a comment FROM x\nFROM base AS build\nRUN pip install x\n  from scratch\nCOPY --from=build / /\n"
    assert with_epoch(text) == (
        "# a comment FROM x\nFROM base AS build\nARG SOURCE_DATE_EPOCH\nRUN pip install x\n"
        "  from scratch\nARG SOURCE_DATE_EPOCH\nCOPY --from=build / /\n"
    )


def test_source_date_epoch_from_the_environment(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch() is None
    monkeypatch.setenv("SOURCE_DATE_EPOCH", " 1700000000 ")
    assert source_date_epoch() == 1700000000
    for wrong in ("-5", "1.5", "soon", "\uff11\uff12"):  # the last: fullwidth digits, which isdigit() accepts
        monkeypatch.setenv("SOURCE_DATE_EPOCH", wrong)
        with pytest.raises(UserError, match=r"SOURCE_DATE_EPOCH is .* \(digits only\)"):
            source_date_epoch()


def _tarball(path: Path, members: dict[str, int]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, mtime in members.items():
            info = tarfile.TarInfo(name)
            info.mtime, info.size = mtime, 2
            archive.addfile(info, io.BytesIO(b"hi"))
    return path


def test_a_tarballs_release_date_is_its_newest_member(tmp_path):
    tarball = _tarball(tmp_path / "Python-3.13.15.tgz", {"a": 1_700_000_000, "b": 1_760_000_000, "c": 5})
    assert released(tarball) == 1_760_000_000
    assert (tmp_path / "Python-3.13.15.tgz.epoch").read_text() == "1760000000\n"  # read through once
    assert released(tarball) == 1_760_000_000


def test_a_context_gets_the_epoch_as_every_files_time(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "file").write_text("x")
    (tmp_path / "link").symlink_to("sub/file")
    pin_times(tmp_path, 1_000_000_000)
    for path in (tmp_path, tmp_path / "sub", tmp_path / "sub" / "file", tmp_path / "link"):
        assert os.lstat(path).st_mtime == 1_000_000_000, path


def test_config_differences_name_the_keys():
    old = {"created": "a", "config": {"Labels": {"x": "1"}, "Env": ["A=1"]}, "rootfs": {"diff_ids": ["1"]}}
    new = {"created": "b", "config": {"Labels": {"x": "2"}, "Env": ["A=1"]}, "rootfs": {"diff_ids": ["1"]}}
    assert config_differences(old, new) == ["config.Labels.x", "created"]  # a label by name: which one moved


def test_file_differences_show_the_first_files_with_size_and_time(tmp_path):
    first = layer_files(_tarball(tmp_path / "1.tgz", {"usr/a": 1_000_000_000, "usr/b": 0, "usr/c": 0}))
    second = layer_files(_tarball(tmp_path / "2.tgz", {"usr/a": 1_100_000_000, "usr/b": 0, "usr/d\x1b[2J": 0}))
    lines = file_differences(first, second)
    assert lines[0].startswith("usr/a: 2 B, mtime 2001-09-09 01:46:40") and "-> 2 B, mtime 2004-11-09" in lines[0]
    assert lines[1:] == ["usr/c: only before", "usr/d?[2J: only after"]  # a name is cleaned for the terminal
    assert file_differences(first, first) == ["no file differs: the tar itself does (order, headers or compression)"]
    many = {f"f{n}": Entry(1, n, 0o644, (0, 0), "") for n in range(8)}
    assert file_differences({}, many, limit=5)[-1] == "and 3 more files"


def _index(*entries: dict[str, object]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(entries)}).encode()


def _entry(digit: str, platform: str | None, attests: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"mediaType": OCI_MANIFEST, "digest": "sha256:" + digit * 64, "size": 1}
    if platform:
        system, architecture = platform.split("/")
        entry["platform"] = {"os": system, "architecture": architecture}
    if attests:
        entry["platform"] = {"os": "unknown", "architecture": "unknown"}
        entry["annotations"] = {REFERENCE_TYPE: ATTESTATION, REFERENCE_DIGEST: "sha256:" + attests * 64}
    return entry


def test_an_images_content_is_its_platform_manifests_not_its_attestations():
    """Two bit-for-bit builds differ only in their provenance attestation (it records when BuildKit ran): a child
    names its parent by what stays the same, so its own inputs (and labels) do not change either."""
    first = Index.parse(_index(_entry("a", "linux/amd64"), _entry("b", "linux/arm64"), _entry("c", None, "a")))
    again = Index.parse(_index(_entry("b", "linux/arm64"), _entry("a", "linux/amd64"), _entry("d", None, "a")))
    other = Index.parse(_index(_entry("a", "linux/amd64"), _entry("e", "linux/arm64")))
    assert first.content == again.content != other.content


def test_content_is_noted_only_for_the_image_the_bytes_are(tmp_path):
    data = _index(_entry("a", "linux/amd64"))
    image_id = sha256(data)
    remember_content(tmp_path, "sha256:" + "f" * 64, data)  # not these bytes' image: ignored
    assert not (tmp_path / "contents").exists()
    remember_content(tmp_path, image_id, data)
    assert (tmp_path / "contents" / image_id[7:]).read_text() == Index.parse(data).content + "\n"


def test_the_built_index_is_read_from_the_oci_archive(tmp_path):
    data = _index(_entry("a", "linux/amd64"))
    digest = sha256(data)
    archive = tmp_path / "image.oci.tar"
    with tarfile.open(archive, "w") as layout:
        for name, body in (
            ("index.json", _index({**_entry("0", None), "digest": digest})),
            (f"blobs/sha256/{digest[7:]}", data),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            layout.addfile(info, io.BytesIO(body))
    assert top_index(archive) == data


def test_an_archive_that_says_nothing_gives_no_index(tmp_path):
    (tmp_path / "broken.tar").write_bytes(b"not a tar")
    assert top_index(tmp_path / "broken.tar") is None
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    assert top_index(tmp_path / "empty.tar") is None
    assert top_index(tmp_path / "missing.tar") is None
