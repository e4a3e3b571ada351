"""``chatface models fetch asyrp``: the real CelebA-HQ U-Net and Asyrp's networks, checked and converted, in one command.

What it does, in order:

1. the U-Net checkpoint ``celeba_hq.ckpt``: from the Hugging Face hub
   (huggingface_hub downloads, caches and resumes it), or from ``--from``;
   converted once into ``DEST/unet`` (diffusers folder + chatface.json, whose
   id is the checkpoint's sha256) unless DEST already holds it;
2. each requested network: from GitHub at Asyrp's pinned commit, or from
   ``--from`` (``checkpoint/<file>.pth`` under a folder or a base URL); its
   sha256 must be the pinned one, else it is refused and deleted;
3. ArcFace for the identity check, ``DEST/arcface.onnx``: ``arcface.onnx``
   from ``--from``, else the buffalo_l pack's recognition model, downloaded
   from insightface's release into ~/.insightface once, where insightface
   keeps it too (skipped with ``arcface=False``);
4. CLIP for the direction check, ``DEST/clip`` (open_clip's ``local-dir``
   layout): a ``clip/`` folder in that layout from ``--from``, else OpenAI's
   ViT-B-32 weights (``clip/ViT-B-32.pt`` from ``--from``, else OpenAI's own
   URL, the one open_clip uses for ViT-B-32 / openai), pinned by sha256 and
   converted (skipped with ``clip=False``);
5. only when everything is downloaded and checked, the networks are converted
   into ``DEST/mappings/<attribute>.safetensors``, the new parts are moved
   into DEST, and ``DEST/MANIFEST.json`` records every file's sha256, so
   ``chatface models verify DEST`` can check the folder later with no network.

A part the mirror lacks comes from its original source; a download that fails
is tried once more after a short pause, then ends the fetch with one line.

Downloads go to a hidden sibling folder ``.DEST.partial`` and resume from
there (HTTP Range) after an interruption; DEST is never left half-written.
Every failure is one ``FetchError`` line that says what failed and how to get
the files by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from ...errors import ChatfaceModelError
from .asyrp import (
    COMMIT,
    DEFAULT_T_EDIT,
    FACE_NETWORKS,
    REPOSITORY,
    SHA256,
    TRAINED_STEPS,
    UNET_FILE,
    UNET_REPOSITORY,
    convert_network,
    file_name,
    network_url,
)
from .manifest import write_manifest
from .provenance import checkpoint_id, sha256_of

BY_HAND = (
    f"to get the files by hand, put {UNET_FILE} (https://huggingface.co/{UNET_REPOSITORY}) and "
    f"checkpoint/<name>_LC_CelebA_HQ_t999_ninv40_ngen40_0.pth (https://github.com/{REPOSITORY}/tree/{COMMIT}/checkpoint) "
    f"into one folder and run: chatface models fetch asyrp --dest DIR --from FOLDER"
)


class FetchError(ChatfaceModelError):
    """A fetch that could not finish; DEST is as it was."""


# OpenAI's ViT-B-32 CLIP: the file open_clip downloads for ViT-B-32 / openai; its URL carries its sha256
CLIP_FILE = "ViT-B-32.pt"
CLIP_SHA256 = "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"
CLIP_URL = f"https://openaipublic.azureedge.net/clip/models/{CLIP_SHA256}/{CLIP_FILE}"
CLIP_MODEL = "ViT-B-32-quickgelu"  # OpenAI's weights were trained with QuickGELU
RETRY_PAUSE_S = 2.0


def networks_for(attributes: list[str] | None) -> list[str]:
    """Asyrp network names for ``attributes`` (Asyrp names or vocabulary ids; None: every face network)."""
    if not attributes:
        return list(FACE_NETWORKS)
    names: list[str] = []
    for a in attributes:
        found = [n.name for n in FACE_NETWORKS.values() if a in (n.name, n.attribute)]
        if not found:
            known = sorted({*FACE_NETWORKS, *(n.attribute for n in FACE_NETWORKS.values())})
            extra = " (a style, not a face attribute)" if a in SHA256 else ""
            raise FetchError(f"no Asyrp face network for {a!r}{extra}; choose from {', '.join(known)}")
        names += [n for n in found if n not in names]
    return names


def _is_url(source: str | None) -> bool:
    if not source:
        return False
    return source.split("://", 1)[0] in ("http", "https", "file")


def download(url: str, target: Path, *, progress: bool = True, hint: str = BY_HAND) -> Path:
    """``url`` -> ``target``, resuming a ``target.part`` left by an earlier try."""
    if target.exists():
        return target
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    for attempt in (1, 2):  # one short retry: a dropped connection or a busy server, not a missing file
        try:
            response = urllib.request.urlopen(request, timeout=60)
            break
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # the part file is already whole
                part.replace(target)
                return target
            if exc.code < 500 or attempt == 2:
                raise FetchError(f"could not download {url}: HTTP {exc.code} {exc.reason}; {hint}") from None
        except (urllib.error.URLError, OSError) as exc:
            if attempt == 2:
                raise FetchError(f"could not download {url}: {getattr(exc, 'reason', exc)}; {hint}") from None
        time.sleep(RETRY_PAUSE_S)
    with response:
        resumed = have and response.status == 206
        total = int(response.headers.get("Content-Length") or 0) + (have if resumed else 0)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=total or None,
                initial=have if resumed else 0,
                unit="B",
                unit_scale=True,
                desc=target.name,
                dynamic_ncols=True,
                leave=False,
            )
        try:
            with open(part, "ab" if resumed else "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        except OSError as exc:
            raise FetchError(f"download of {url} broke off ({exc}); run the same command again to resume") from None
        finally:
            if bar is not None:
                bar.close()
    part.replace(target)
    return target


def _unet_checkpoint(source: str | None, partial: Path, progress: bool) -> Path:
    if source and not _is_url(source):
        path = Path(source).expanduser() / UNET_FILE
        if not path.is_file():
            raise FetchError(f"{path} does not exist; {BY_HAND}")
        return path
    if source:
        return download(f"{source.rstrip('/')}/{UNET_FILE}", partial / UNET_FILE, progress=progress)
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(UNET_REPOSITORY, UNET_FILE))
    except Exception as exc:  # noqa: BLE001 - offline, hub errors: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FetchError(f"could not download {UNET_FILE} from the Hugging Face hub ({UNET_REPOSITORY}): {first}; {BY_HAND}") from None


def _network_file(name: str, source: str | None, partial: Path, progress: bool) -> Path:
    if source and not _is_url(source):
        path = Path(source).expanduser() / "checkpoint" / file_name(name)
        if not path.is_file():
            raise FetchError(f"{path} does not exist; {BY_HAND}")
    else:
        path = download(network_url(name, source), partial / "checkpoint" / file_name(name), progress=progress)
    digest = sha256_of(path)
    if digest != SHA256[name]:
        if path.is_relative_to(partial):
            path.unlink()  # a bad download is not kept for resuming
        raise FetchError(
            f"{file_name(name)} has sha256 {digest}, not the pinned {SHA256[name]} of Asyrp's commit "
            f"{COMMIT[:10]}; refused, nothing was written"
        )
    return path


def _arcface(source: str | None, partial: Path, progress: bool) -> Path:
    from ..scorers.arcface import DEFAULT_ARCFACE

    if source and not _is_url(source) and (Path(source).expanduser() / "arcface.onnx").is_file():
        return Path(source).expanduser() / "arcface.onnx"
    if source and _is_url(source):
        try:
            return download(f"{source.rstrip('/')}/arcface.onnx", partial / "arcface.onnx", progress=progress)
        except FetchError:
            pass  # the mirror has none: insightface's own pack below
    path = DEFAULT_ARCFACE.expanduser()
    if not path.is_file():
        _buffalo_l(path, partial, progress)
    return path


BUFFALO_L_URL = (
    "https://github.com/deepinsight/insightface/releases/download/model-zoo/buffalo_l.zip"  # insightface's own release (its 2.x model zoo)
)


def _buffalo_l(path: Path, partial: Path, progress: bool) -> None:
    """insightface's buffalo_l pack, downloaded from its release (as insightface itself would), and its recognition
    network put at ``path`` (~/.insightface/models/buffalo_l/, where insightface keeps it too)."""
    import zipfile

    zipped = download(
        BUFFALO_L_URL,
        partial / "buffalo_l.zip",
        progress=progress,
        hint="put an ArcFace arcface.onnx in the --from folder, or fetch with --no-arcface and set CHATFACE_ARCFACE",
    )
    try:
        with zipfile.ZipFile(zipped) as pack:
            member = next((m for m in pack.namelist() if m.rsplit("/", 1)[-1] == path.name), None)
            if member is None:
                raise FetchError(f"insightface's buffalo_l pack has no {path.name}; fetch with --no-arcface and set CHATFACE_ARCFACE")
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_name(path.name + ".part")
            with pack.open(member) as src, open(staging, "wb") as out:
                shutil.copyfileobj(src, out)
            staging.replace(path)
    except zipfile.BadZipFile:
        zipped.unlink(missing_ok=True)
        raise FetchError(
            f"{BUFFALO_L_URL} did not give a zip file; run the same command again, or put an ArcFace arcface.onnx in the --from folder"
        ) from None


CLIP_BY_HAND = (
    f"put OpenAI's {CLIP_FILE} ({CLIP_URL}) into FOLDER/clip/ and run again with --from FOLDER, "
    "or fetch with --no-clip (open_clip then downloads CLIP on first use)"
)


def _clip(source: str | None, partial: Path, progress: bool) -> Path:
    """DEST/clip to be: a mirror's converted clip/ folder as it is, else OpenAI's pinned weights, converted."""
    if source and not _is_url(source) and (Path(source).expanduser() / "clip" / "open_clip_config.json").is_file():
        return Path(source).expanduser() / "clip"
    pt = None
    if source and not _is_url(source) and (Path(source).expanduser() / "clip" / CLIP_FILE).is_file():
        pt = Path(source).expanduser() / "clip" / CLIP_FILE
    elif source and _is_url(source):
        try:  # a mirror of a fetched folder: its converted clip/
            for name in ("open_clip_config.json", "open_clip_model.safetensors"):
                download(f"{source.rstrip('/')}/clip/{name}", partial / "clip-dir" / name, progress=progress, hint=CLIP_BY_HAND)
            return partial / "clip-dir"
        except FetchError:
            pass
        try:
            pt = download(f"{source.rstrip('/')}/clip/{CLIP_FILE}", partial / "clip" / CLIP_FILE, progress=progress, hint=CLIP_BY_HAND)
        except FetchError:
            pt = None  # the mirror has none: OpenAI's own below
    if pt is None:
        pt = download(CLIP_URL, partial / "clip" / CLIP_FILE, progress=progress, hint=CLIP_BY_HAND)
    digest = sha256_of(pt)
    if digest != CLIP_SHA256:
        if pt.is_relative_to(partial):
            pt.unlink()
        raise FetchError(
            f"{CLIP_FILE} has sha256 {digest}, not the pinned {CLIP_SHA256} of OpenAI's ViT-B-32; refused, nothing was written"
        )
    return convert_openai_clip(pt, partial / "stage-clip")


def convert_openai_clip(pt: Path, out: Path, model_name: str = CLIP_MODEL) -> Path:
    """OpenAI's CLIP weights -> an open_clip ``local-dir`` folder (open_clip_config.json + open_clip_model.safetensors),
    which loads with no network and no pickle."""
    import open_clip
    from safetensors.torch import save_file

    try:
        model = open_clip.create_model(model_name, pretrained=str(pt), device="cpu")
    except Exception as exc:  # noqa: BLE001 - a file of the wrong kind: one line
        raise FetchError(f"{pt}: cannot load it as {model_name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "open_clip_config.json").write_text(
        json.dumps(
            {
                "model_cfg": open_clip.get_model_config(model_name),
                "preprocess_cfg": {"mean": list(open_clip.OPENAI_DATASET_MEAN), "std": list(open_clip.OPENAI_DATASET_STD)},
            },
            indent=2,
        )
    )
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "open_clip_model.safetensors"))
    return out


def _swap_in(new: Path, target: Path) -> None:
    """Put the folder ``new`` where ``target`` is, replacing it (the old one is moved aside first, then removed)."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def fetch_asyrp(
    dest: str | Path,
    *,
    source: str | None = None,
    attributes: list[str] | None = None,
    resolution: int = 256,
    arcface: bool = True,
    clip: bool = True,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> Path:
    """Download, check and convert the U-Net and Asyrp's networks into the models directory ``dest``."""
    from .provenance import read_identity
    from .pytorch_diffusion import convert_checkpoint

    dest = Path(dest).expanduser().resolve()
    names = networks_for(attributes)
    partial = dest.parent / f".{dest.name}.partial"
    stage = partial / "stage"
    shutil.rmtree(stage, ignore_errors=True)

    identity = read_identity(dest / "unet") if (dest / "unet").is_dir() else None
    new_unet = identity is None or identity.get("resolution") != resolution or identity.get("layout") != "pytorch_diffusion"
    ckpt: Path | None = None  # the U-Net checkpoint to convert: set exactly when new_unet
    if new_unet:
        log(f"U-Net: {UNET_FILE} from {source or 'the Hugging Face hub (' + UNET_REPOSITORY + ')'}")
        ckpt = _unet_checkpoint(source, partial, progress)
    files = {}
    for name in names:
        log(f"network {name}: {file_name(name)}")
        files[name] = _network_file(name, source, partial, progress)

    arcface_file = None
    if arcface and not (dest / "arcface.onnx").is_file():
        log("ArcFace (identity check): " + ("arcface.onnx from " + source if source else "insightface's buffalo_l pack"))
        arcface_file = _arcface(source, partial, progress)

    clip_dir = None
    if clip and not (dest / "clip" / "open_clip_config.json").is_file():
        log("CLIP (direction check): " + (f"clip/ from {source}" if source else f"OpenAI's {CLIP_FILE}"))
        clip_dir = _clip(source, partial, progress)

    if ckpt is not None:
        digest = sha256_of(ckpt)
        identity = {
            "id": checkpoint_id(ckpt, resolution, digest),
            "layout": "pytorch_diffusion",
            "source": f"{source or 'hf://' + UNET_REPOSITORY}/{UNET_FILE}",
            "sha256": digest,
            "resolution": resolution,
            "steps": TRAINED_STEPS,
            "t_edit": DEFAULT_T_EDIT,
        }
        log(f"converting {UNET_FILE} to diffusers (resolution {resolution})")
        try:
            convert_checkpoint(ckpt, stage / "unet", resolution=resolution, identity=identity)
        except (ValueError, RuntimeError) as exc:
            raise FetchError(f"{ckpt}: cannot convert: {exc}") from None
    if identity is None:  # a folder without an identity always gets a new, converted U-Net (new_unet)
        raise FetchError(f"{dest / 'unet'}: the U-Net has no chatface.json identity")
    for name, path in files.items():
        convert_network(path, stage / "mappings", name, base_model=identity["id"], sha256=SHA256[name])

    dest.mkdir(parents=True, exist_ok=True)
    if new_unet:
        _swap_in(stage / "unet", dest / "unet")
    (dest / "mappings").mkdir(exist_ok=True)
    for f in sorted((stage / "mappings").iterdir()):
        os.replace(f, dest / "mappings" / f.name)
    if arcface_file is not None:
        shutil.copyfile(arcface_file, partial / "arcface.onnx.copy")
        os.replace(partial / "arcface.onnx.copy", dest / "arcface.onnx")
    if clip_dir is not None:
        shutil.copytree(clip_dir, partial / "clip.copy", dirs_exist_ok=True)
        _swap_in(partial / "clip.copy", dest / "clip")
    (dest / "ASYRP.txt").write_text(
        f"unet/: SDEdit's CelebA-HQ U-Net ({identity['source']}, sha256 {identity['sha256']}), converted to diffusers.\n"
        f"mappings/: Asyrp's h-space networks (github {REPOSITORY} at {COMMIT}, MIT licence), sha256-checked.\n"
        + (
            f"clip/: ViT-B-32 CLIP in open_clip's local-dir layout (from OpenAI's {CLIP_FILE}, sha256 {CLIP_SHA256}, "
            "or a mirror's converted copy of it).\n"
            if (dest / "clip").is_dir()
            else ""
        )
        + "MANIFEST.json: every file's sha256; check the folder with chatface models verify.\n",
        encoding="utf-8",
    )
    write_manifest(dest)
    shutil.rmtree(partial, ignore_errors=True)
    return dest
