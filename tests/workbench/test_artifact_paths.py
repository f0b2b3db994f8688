"""Issue 11, item 9: what an artifact path does to the local artifact store is the caller's mistake
(a 4xx with one sentence, nothing stored), never "Artifact store unavailable." nor a store error:
a segment over 255 bytes, a file where a folder is needed and the reverse, a planted symbolic link."""

import base64
import re
from pathlib import Path

from support import WORKBENCH_API as API
from support import ok, problem

STORE_ERRORS = re.compile(r"^intake_store_errors_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def store_errors(wb) -> float:
    return sum(float(count) for count in STORE_ERRORS.findall((await wb.get("/metrics")).text))


async def upload(wb, run: str, path: str, data: bytes = b"data"):
    body = {"name": "artifact.bin", "path": path, "content_base64": b64(data)}
    return await wb.post(f"{API}/{run}/artifacts", json=body)


async def stored_paths(wb, run: str) -> list[str]:
    return [a["path"] for a in ok(await wb.get(f"{API}/{run}/artifacts"))["artifacts"]]


async def new_run(wb) -> tuple[str, str]:
    made = ok(await wb.post(API, json={"name": "paths", "run_name": "r"}), 201)
    return made["id"], made["run_id"]


async def test_path_segment_over_255_bytes_is_422(wb) -> None:
    _, run = await new_run(wb)
    before = await store_errors(wb)
    for path in ("a" * 256, "dir/" + "é" * 128, "x" * 200 + "/" + "y" * 256 + "/z"):
        assert "255 bytes" in problem(await upload(wb, run, path), 422)
    ok(await upload(wb, run, "é" * 127 + "/" + "b" * 255))  # 254 and 255 bytes
    assert await stored_paths(wb, run) == ["é" * 127 + "/" + "b" * 255]
    assert await store_errors(wb) == before


async def test_file_where_a_folder_is_needed_and_the_reverse_is_409(wb) -> None:
    _, run = await new_run(wb)
    before = await store_errors(wb)
    ok(await upload(wb, run, "model", b"file"))
    ok(await upload(wb, run, "plots/loss.png", b"png"))
    assert "a file cannot also be a folder" in problem(await upload(wb, run, "model/weights.bin"), 409)
    assert "a file cannot also be a folder" in problem(await upload(wb, run, "model/deeper/w.bin"), 409)
    assert "a folder cannot also be a file" in problem(await upload(wb, run, "plots"), 409)
    # Nothing of the refused uploads was recorded; what was there is intact.
    assert await stored_paths(wb, run) == ["model", "plots/loss.png"]
    download = await wb.get(f"{API}/{run}/artifacts/content", params={"path": "model"})
    assert download.status_code == 200 and download.content == b"file"
    assert await store_errors(wb) == before


async def test_planted_symlink_out_of_the_store_is_409(wb, org, settings, tmp_path: Path) -> None:
    exp, run = await new_run(wb)
    ok(await upload(wb, run, "doc.txt", b"mine"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    run_folder = settings.data_dir / "artifacts" / org / exp / run
    (run_folder / "escape").symlink_to(outside, target_is_directory=True)
    (run_folder / "doc.txt").unlink()
    (run_folder / "doc.txt").symlink_to(outside / "secret.txt")
    (run_folder / "loop").symlink_to(run_folder / "loop")
    before = await store_errors(wb)

    assert "outside the artifact store" in problem(await upload(wb, run, "escape/new.txt"), 409)
    assert "outside the artifact store" in problem(await upload(wb, run, "doc.txt", b"again"), 409)
    read = await wb.get(f"{API}/{run}/artifacts/content", params={"path": "doc.txt"})
    assert "outside the artifact store" in problem(read, 409)
    assert "symbolic link" in problem(await upload(wb, run, "loop/x.txt"), 409)
    assert not (outside / "new.txt").exists() and (outside / "secret.txt").read_text() == "not yours"
    assert await stored_paths(wb, run) == ["doc.txt"]
    assert await store_errors(wb) == before


async def test_planted_folder_in_place_of_an_artifact_file_is_404(wb, org, settings) -> None:
    exp, run = await new_run(wb)
    ok(await upload(wb, run, "doc.txt", b"mine"))
    on_disk = settings.data_dir / "artifacts" / org / exp / run / "doc.txt"
    on_disk.unlink()
    on_disk.mkdir()
    before = await store_errors(wb)
    read = await wb.get(f"{API}/{run}/artifacts/content", params={"path": "doc.txt"})
    assert problem(read, 404) == "Artifact 'doc.txt' not found."
    assert await store_errors(wb) == before
