#!/usr/bin/python3
"""Build the OCI image layouts used by grove's tests, from Debian packages only.

Usage: build-test-images.py OUT_DIR [--with-debian]

Writes into OUT_DIR:
  busybox/    one gzip layer: static busybox (from busybox-static) + minimal /etc
  layers/     busybox layer + "base" (gzip) + "changes" (zstd) + "plain" (uncompressed),
              exercising whiteouts, opaque dirs, links, xattrs, special modes, odd names ...
  multiarch/  index.json -> image index blob -> linux/amd64 and linux/arm64/v8 manifests
  debian/     (only with --with-debian) debootstrap --variant=minbase bookworm, one gzip layer
  MANIFEST.json  summary of digests that tests can read

Everything except debian/ is deterministic: fixed mtimes, sorted entries, numeric owners,
gzip headers with mtime=0 and no file name, zstd at a fixed level with one thread. Running
the script twice yields byte-identical blobs (for the same Python and zstd versions).

Each image is built in OUT_DIR/<name>.tmp-<pid> and renamed into place when complete;
every blob is written to a temporary file and renamed to blobs/sha256/<hex>.
"""

import calendar
import glob
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

EPOCH = calendar.timegm((2024, 1, 1, 0, 0, 0))
CREATED = "2024-01-01T00:00:00Z"
OLD_MTIME = calendar.timegm((2001, 2, 3, 0, 0, 0))
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
TAG = "latest"

MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"

GZIP_LEVEL = 6
ZSTD_CMD = ["zstd", "-19", "-T1", "--no-progress", "-q", "-c"]
CHUNK = 1 << 20
BIG_SIZE = 64 << 20
MANY_COUNT = 10000


def log(msg):
    print(f"build-test-images: {msg}", file=sys.stderr, flush=True)


def canonical_json(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- layouts


class Layout:
    """An OCI image layout under construction in DIR.tmp-<pid>."""

    def __init__(self, out_dir, name):
        self.name = name
        self.final = os.path.join(out_dir, name)
        self.path = f"{self.final}.tmp-{os.getpid()}"
        shutil.rmtree(self.path, ignore_errors=True)
        self.blobs = os.path.join(self.path, "blobs", "sha256")
        os.makedirs(self.blobs)
        self._write_atomic(os.path.join(self.path, "oci-layout"),
                           canonical_json({"imageLayoutVersion": "1.0.0"}))

    @staticmethod
    def _write_atomic(path, data):
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, path)

    def temp_blob(self):
        """An open temporary file in the blob directory (rename it with commit_blob)."""
        return tempfile.NamedTemporaryFile(dir=self.blobs, prefix=".incoming-", delete=False)

    def commit_blob(self, tmp_path, hexdigest):
        os.chmod(tmp_path, 0o644)
        os.rename(tmp_path, os.path.join(self.blobs, hexdigest))

    def put_bytes(self, data, media_type, annotations=None, platform=None):
        hexd = hashlib.sha256(data).hexdigest()
        with self.temp_blob() as f:
            f.write(data)
        self.commit_blob(f.name, hexd)
        desc = {"mediaType": media_type, "digest": f"sha256:{hexd}", "size": len(data)}
        if platform:
            desc["platform"] = platform
        if annotations:
            desc["annotations"] = annotations
        return desc

    def put_json(self, obj, media_type, **kw):
        return self.put_bytes(canonical_json(obj), media_type, **kw)

    def import_layer(self, layer):
        """Copy a layer blob built in another layout (e.g. the shared busybox layer)."""
        hexd = layer.digest.split(":", 1)[1]
        if not os.path.exists(os.path.join(self.blobs, hexd)):
            with self.temp_blob() as f, open(layer.path, "rb") as src:
                shutil.copyfileobj(src, f, CHUNK)
            self.commit_blob(f.name, hexd)
        return Layer(os.path.join(self.blobs, hexd), layer.media_type, layer.digest,
                     layer.size, layer.diff_id, layer.comment)

    def finish(self, top_descriptor):
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [top_descriptor]}
        self._write_atomic(os.path.join(self.path, "index.json"), canonical_json(index))
        old = f"{self.final}.old-{os.getpid()}"
        if os.path.lexists(self.final):
            os.rename(self.final, old)
        os.rename(self.path, self.final)
        shutil.rmtree(old, ignore_errors=True)
        self.path = self.final
        self.blobs = os.path.join(self.final, "blobs", "sha256")

    def abandon(self):
        if self.path != self.final:
            shutil.rmtree(self.path, ignore_errors=True)


class Layer:
    def __init__(self, path, media_type, digest, size, diff_id, comment):
        self.path, self.media_type, self.digest = path, media_type, digest
        self.size, self.diff_id, self.comment = size, diff_id, comment

    def descriptor(self):
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}

    def summary(self):
        return {"digest": self.digest, "mediaType": self.media_type, "size": self.size,
                "diff_id": self.diff_id}


# --------------------------------------------------------------------------- streams


class HashingWriter:
    """Write-through file object computing sha256 and byte count (tarfile needs tell())."""

    def __init__(self, sink):
        self.sink = sink
        self.sha = hashlib.sha256()
        self.count = 0

    def write(self, data):
        self.sha.update(data)
        self.count += len(data)
        self.sink.write(data)
        return len(data)

    def tell(self):
        return self.count

    def flush(self):
        pass


class RandomReader:
    """Deterministic pseudo-random content: random.Random(seed).randbytes, 1 MiB at a time."""

    def __init__(self, seed, size):
        self.rng = random.Random(seed)
        self.left = size
        self.buf = b""

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.left + len(self.buf)
        while len(self.buf) < n and self.left > 0:
            k = min(CHUNK, self.left)
            self.buf += self.rng.randbytes(k)
            self.left -= k
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def big_file_sha256():
    r = RandomReader(42, BIG_SIZE)
    h = hashlib.sha256()
    while chunk := r.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def write_layer(layout, media_type, fill, comment):
    """Create a layer blob in LAYOUT; FILL(tarfile) adds the entries."""
    tmp = layout.temp_blob()
    try:
        if media_type == MT_ZSTD:
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZSTD_")}
            proc = subprocess.Popen(ZSTD_CMD, stdin=subprocess.PIPE, stdout=tmp, env=env)
            raw = HashingWriter(proc.stdin)
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                fill(tar)
            proc.stdin.close()
            if proc.wait() != 0:
                raise RuntimeError(f"zstd failed with status {proc.returncode}")
            tmp.close()
            h, size = hashlib.sha256(), 0
            with open(tmp.name, "rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
                    size += len(chunk)
            digest = h.hexdigest()
        elif media_type == MT_GZIP:
            compressed = HashingWriter(tmp)
            # filename="" and mtime=0: nothing time- or path-dependent in the gzip header.
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=compressed,
                               compresslevel=GZIP_LEVEL, mtime=0)
            raw = HashingWriter(gz)
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                fill(tar)
            gz.close()
            tmp.close()
            digest, size = compressed.sha.hexdigest(), compressed.count
        elif media_type == MT_TAR:
            raw = HashingWriter(tmp)
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                fill(tar)
            tmp.close()
            digest, size = raw.sha.hexdigest(), raw.count
        else:
            raise ValueError(media_type)
        layout.commit_blob(tmp.name, digest)
    except BaseException:
        tmp.close()
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
        raise
    return Layer(os.path.join(layout.blobs, digest), media_type, f"sha256:{digest}", size,
                 f"sha256:{raw.sha.hexdigest()}", comment)


# --------------------------------------------------------------------------- tar entries


class Entry:
    """One synthetic tar entry; DATA is bytes or a (reader, size) pair."""

    def __init__(self, name, kind=tarfile.REGTYPE, mode=None, data=b"", linkname="",
                 uid=0, gid=0, mtime=EPOCH, pax=None):
        self.name, self.kind, self.data, self.linkname = name, kind, data, linkname
        if mode is None:
            mode = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}.get(kind, 0o644)
        self.mode, self.uid, self.gid, self.mtime, self.pax = mode, uid, gid, mtime, pax

    def add_to(self, tar):
        ti = tarfile.TarInfo(self.name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = self.kind, self.mode, self.uid, self.gid, self.mtime
        ti.uname = ti.gname = ""
        ti.linkname = self.linkname
        if self.pax:
            ti.pax_headers = dict(self.pax)
        fileobj = None
        if self.kind == tarfile.REGTYPE:
            if isinstance(self.data, tuple):
                fileobj, ti.size = self.data
            else:
                fileobj, ti.size = io.BytesIO(self.data), len(self.data)
        tar.addfile(ti, fileobj)
        if isinstance(self.data, tuple) and hasattr(fileobj, "close"):
            fileobj.close()


def add_entries(tar, entries):
    """Add ENTRIES: explicit parent dirs, parents before children, sorted by path components;
    hard links go last so their targets always precede them."""
    by_name = {e.name: e for e in entries}
    for e in list(entries):
        parts = e.name.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in by_name:
                by_name[d] = Entry(d, tarfile.DIRTYPE)

    def key(e):
        return (e.kind == tarfile.LNKTYPE, e.name.split("/"))

    for e in sorted(by_name.values(), key=key):
        e.add_to(tar)


def d(name, mode=0o755, **kw):
    return Entry(name, tarfile.DIRTYPE, mode=mode, **kw)


def f(name, data=b"", mode=0o644, **kw):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return Entry(name, tarfile.REGTYPE, mode=mode, data=data, **kw)


def sym(name, target):
    return Entry(name, tarfile.SYMTYPE, linkname=target)


# --------------------------------------------------------------------------- images


def image_config(layers, label, cmd=("sh",), arch="amd64", variant=None):
    cfg = {"created": CREATED, "architecture": arch}
    if variant:
        cfg["variant"] = variant
    cfg.update({
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": list(cmd), "WorkingDir": "/",
                   "Labels": {"org.grove.test": label}},
        "rootfs": {"type": "layers", "diff_ids": [l.diff_id for l in layers]},
        "history": [{"created": CREATED, "created_by": f"build-test-images.py: {l.comment}",
                     "comment": l.comment} for l in layers],
    })
    return cfg


def put_manifest(layout, layers, config, annotations=None, platform=None):
    cdesc = layout.put_json(config, MT_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cdesc,
                "layers": [l.descriptor() for l in layers]}
    return layout.put_json(manifest, MT_MANIFEST, annotations=annotations, platform=platform)


def busybox_entries():
    bb = "/bin/busybox"
    with open(bb, "rb") as fh:
        if fh.read(4) != b"\x7fELF":
            raise RuntimeError(f"{bb} is not an ELF file")
    if elf_has_interp(bb):
        raise RuntimeError(f"{bb} is dynamically linked; install busybox-static")
    applets = subprocess.run([bb, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    size = os.path.getsize(bb)
    entries = [
        d("bin"), d("dev"), d("etc"), d("proc", 0o555), d("sys", 0o555), d("root", 0o700),
        d("tmp", 0o1777), d("usr"), d("usr/bin"),
        Entry("bin/busybox", mode=0o755, data=(open(bb, "rb"), size)),
        f("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
        f("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ]
    for a in sorted(set(applets) | {"sh"}):
        if a != "busybox" and "/" not in a:
            entries.append(sym(f"bin/{a}", "busybox"))
    return entries


def elf_has_interp(path):
    """True if the ELF64 little-endian file has a PT_INTERP program header (= dynamic)."""
    import struct
    with open(path, "rb") as fh:
        hdr = fh.read(64)
        if hdr[4] != 2 or hdr[5] != 1:
            raise RuntimeError(f"{path}: expected a 64-bit little-endian ELF")
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def base_entries():
    long_name = "data/odd/" + "long-name-" * 12 + "end.txt"  # > 100 bytes: needs a PAX path
    assert len(long_name.encode()) > 100
    entries = [
        d("data"),
        f("data/keep.txt", "keep: original content from the base layer\n"),
        f("data/gone.txt", "this file is deleted by a whiteout in the changes layer\n"),
        d("data/replaced"),
        f("data/replaced/old1.txt", "old1\n"),
        d("data/replaced/sub"),
        f("data/replaced/sub/old2.txt", "old2\n"),
        sym("data/rel-link", "keep.txt"),
        sym("data/up-link", "../etc/passwd"),
        sym("data/abs-link", "/etc/passwd"),
        # hard.txt's target keep.txt is replaced by the changes layer, which breaks the link
        # in the final rootfs (hard.txt keeps the old content); hard-stable.txt's target is
        # never changed, so it still shares an inode with old-mtime in the final rootfs.
        Entry("data/hard.txt", tarfile.LNKTYPE, linkname="data/keep.txt"),
        Entry("data/hard-stable.txt", tarfile.LNKTYPE, linkname="data/old-mtime"),
        Entry("data/big.bin", data=(RandomReader(42, BIG_SIZE), BIG_SIZE)),
        d("data/many"),
        f("data/xattr.txt", "file with extended attributes\n",
          pax={"SCHILY.xattr.user.grove.test": "hello", "SCHILY.xattr.user.grove.empty": ""}),
        f("data/setuid", "#!/bin/sh\necho setuid\n", mode=0o4755),
        f("data/setgid", "#!/bin/sh\necho setgid\n", mode=0o2755),
        d("data/sgid-dir", 0o2775),
        f("data/sgid-dir/inside.txt", "inside a setgid directory\n"),
        Entry("data/fifo", tarfile.FIFOTYPE, mode=0o644),
        d("data/odd"),
        f("data/odd/with space.txt", "with space\n"),
        f("data/odd/ünïcødé-文件.txt", "unicode\n"),
        f("data/odd/-leading-dash", "leading dash\n"),
        f(long_name, "long name\n"),
        f("data/owned-1000", "owned by 1000:1000\n", uid=1000, gid=1000),
        f("data/old-mtime", "mtime 2001-02-03\n", mtime=OLD_MTIME),
    ]
    entries += [f(f"data/many/f{i:05d}", f"f{i:05d}\n") for i in range(MANY_COUNT)]
    return entries


def changes_entries():
    return [
        d("data"),
        f("data/.wh.gone.txt"),
        d("data/replaced"),
        f("data/replaced/.wh..wh..opq"),
        f("data/replaced/new.txt", "new file in the opaque directory\n"),
        f("data/keep.txt", "keep: modified by the zstd changes layer\n"),
        f("data/added-in-zstd.txt", "added in the zstd layer\n"),
    ]


def plain_entries():
    return [
        d("data"),
        f("data/plain.txt", "from the uncompressed layer\n"),
        f("data/.wh.sgid-dir"),
    ]


def fill_with(entries_fn):
    return lambda tar: add_entries(tar, entries_fn())


def build_busybox(out):
    lay = Layout(out, "busybox")
    try:
        layer = write_layer(lay, MT_GZIP, fill_with(busybox_entries), "busybox rootfs")
        desc = put_manifest(lay, [layer], image_config([layer], "busybox"),
                            annotations={REF_ANNOTATION: TAG})
        lay.finish(desc)
    except BaseException:
        lay.abandon()
        raise
    layer.path = os.path.join(lay.blobs, layer.digest.split(":")[1])
    return layer, {"ref": TAG, "manifest_digest": desc["digest"],
                   "layers": [layer.summary()]}


def build_layers(out, bb_layer):
    lay = Layout(out, "layers")
    try:
        layers = [lay.import_layer(bb_layer),
                  write_layer(lay, MT_GZIP, fill_with(base_entries), "base (gzip)"),
                  write_layer(lay, MT_ZSTD, fill_with(changes_entries), "changes (zstd)"),
                  write_layer(lay, MT_TAR, fill_with(plain_entries), "plain (uncompressed)")]
        desc = put_manifest(lay, layers, image_config(layers, "layers"),
                            annotations={REF_ANNOTATION: TAG})
        lay.finish(desc)
    except BaseException:
        lay.abandon()
        raise
    return {"ref": TAG, "manifest_digest": desc["digest"],
            "layers": [l.summary() for l in layers],
            "files": {"data/big.bin": {"size": BIG_SIZE, "sha256": big_file_sha256()},
                      "data/many": {"entries": MANY_COUNT}}}


def build_multiarch(out, bb_layer):
    lay = Layout(out, "multiarch")
    try:
        def platform_layer(text):
            return write_layer(lay, MT_GZIP, lambda tar: add_entries(tar, [
                d("etc"), f("etc/grove-platform", text)]), f"platform marker {text.strip()}")

        amd64 = {"architecture": "amd64", "os": "linux"}
        arm64 = {"architecture": "arm64", "os": "linux", "variant": "v8"}
        amd_layers = [lay.import_layer(bb_layer), platform_layer("linux/amd64\n")]
        # No arm64 binaries are available offline (only Debian's amd64 busybox-static is
        # installed), so the arm64 image is a single data layer: it can be pulled, unpacked
        # and inspected, but not run.
        arm_layers = [platform_layer("linux/arm64/v8\n")]
        amd_desc = put_manifest(lay, amd_layers, image_config(amd_layers, "multiarch"),
                                platform=amd64)
        arm_desc = put_manifest(lay, arm_layers,
                                image_config(arm_layers, "multiarch", arch="arm64",
                                             variant="v8"), platform=arm64)
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [amd_desc, arm_desc]}
        desc = lay.put_json(index, MT_INDEX, annotations={REF_ANNOTATION: TAG})
        lay.finish(desc)
    except BaseException:
        lay.abandon()
        raise
    return {"ref": TAG, "manifest_digest": desc["digest"], "mediaType": MT_INDEX,
            "platforms": [
                {"platform": amd64, "manifest_digest": amd_desc["digest"],
                 "layers": [l.summary() for l in amd_layers]},
                {"platform": arm64, "manifest_digest": arm_desc["digest"],
                 "layers": [l.summary() for l in arm_layers]}]}


# --------------------------------------------------------------------------- debian


def debian_mirror():
    """First URI of the main Debian archive from the machine's apt sources."""
    candidates = []
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
        + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for stanza in text.split("\n\n"):
                fields, last = {}, None
                for line in stanza.splitlines():
                    if not line.strip() or line.lstrip().startswith("#"):
                        continue
                    if line[0] in " \t" and last:
                        fields[last] += " " + line.strip()
                    elif ":" in line:
                        last, val = line.split(":", 1)
                        last = last.strip().lower()
                        fields[last] = val.strip()
                if fields.get("enabled", "yes").lower() == "no":
                    continue
                if "deb" not in fields.get("types", "").split():
                    continue
                suites = fields.get("suites", "").split()
                for uri in fields.get("uris", "").split():
                    candidates.append((uri, suites))
        else:
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if not words or words[0] != "deb":
                    continue
                words = words[1:]
                if words and words[0].startswith("["):
                    while words and not words[0].endswith("]"):
                        words = words[1:]
                    words = words[1:]
                if len(words) >= 2:
                    candidates.append((words[0], [words[1]]))
    for uri, suites in candidates:
        if "security" in uri or not any("-" not in s for s in suites):
            continue  # skip debian-security and suite-updates-only entries
        return uri
    raise RuntimeError("no main Debian archive found in the apt sources")


def build_debian(out):
    mirror = debian_mirror()
    log(f"debootstrap --variant=minbase bookworm from {mirror} (takes minutes)")
    lay = Layout(out, "debian")
    rootfs = tempfile.mkdtemp(prefix=".debootstrap-", dir=out)
    try:
        subprocess.run(["debootstrap", "--variant=minbase", "bookworm", rootfs, mirror],
                       check=True, stdout=sys.stderr)
        layer = write_layer(lay, MT_GZIP, lambda tar: add_tree(tar, rootfs),
                            "debootstrap --variant=minbase bookworm")
        desc = put_manifest(lay, [layer], image_config([layer], "debian", cmd=("bash",)),
                            annotations={REF_ANNOTATION: TAG})
        lay.finish(desc)
    except BaseException:
        lay.abandon()
        raise
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return {"ref": TAG, "manifest_digest": desc["digest"], "layers": [layer.summary()],
            "mirror": mirror}


def add_tree(tar, root):
    """Add ROOT's contents in sorted order: modes, owners, mtimes, symlinks, hard links
    (tarfile tracks inodes) and xattrs are kept; device nodes and sockets are skipped."""
    def walk(rel):
        full = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(full)):
            r = f"{rel}/{name}" if rel else name
            st = os.lstat(os.path.join(root, r))
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISSOCK(st.st_mode):
                continue
            if r.startswith("var/cache/apt/archives/") and name.endswith(".deb"):
                continue
            yield r, st
            if stat.S_ISDIR(st.st_mode):
                yield from walk(r)

    for rel, st in walk(""):
        full = os.path.join(root, rel)
        ti = tar.gettarinfo(full, arcname=rel)
        ti.uname = ti.gname = ""
        ti.mtime = int(st.st_mtime)
        if not stat.S_ISLNK(st.st_mode):
            try:
                pax = {}
                for key in sorted(os.listxattr(full, follow_symlinks=False)):
                    val = os.getxattr(full, key, follow_symlinks=False)
                    pax[f"SCHILY.xattr.{key}"] = val.decode("utf-8", "surrogateescape")
                if pax:
                    ti.pax_headers = pax
            except OSError:
                pass
        if ti.isreg():
            with open(full, "rb") as fh:
                tar.addfile(ti, fh)
        else:
            tar.addfile(ti)


# --------------------------------------------------------------------------- main


def clean_stale(out):
    """Remove leftovers of interrupted builds whose process is gone."""
    for p in glob.glob(os.path.join(out, "*.tmp-*")) + glob.glob(os.path.join(out, "*.old-*")) \
            + glob.glob(os.path.join(out, ".debootstrap-*")):
        pid = p.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and os.path.exists(f"/proc/{pid}"):
            continue
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                os.unlink(p)
            except OSError:
                pass


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    if len(args) != 1 or any(f != "--with-debian" for f in flags):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = os.path.abspath(args[0])
    os.makedirs(out, exist_ok=True)
    clean_stale(out)
    summary = {}
    old = os.path.join(out, "MANIFEST.json")
    if os.path.exists(old):  # keep a previous debian entry if this run skips debian
        try:
            with open(old, encoding="utf-8") as fh:
                prev = json.load(fh)
            if "debian" in prev and os.path.isdir(os.path.join(out, "debian")):
                summary["debian"] = prev["debian"]
        except (OSError, ValueError):
            pass

    t0 = time.monotonic()
    bb_layer, summary["busybox"] = build_busybox(out)
    log(f"busybox   {summary['busybox']['manifest_digest']} ({time.monotonic() - t0:.1f}s)")
    summary["layers"] = build_layers(out, bb_layer)
    log(f"layers    {summary['layers']['manifest_digest']} ({time.monotonic() - t0:.1f}s)")
    summary["multiarch"] = build_multiarch(out, bb_layer)
    log(f"multiarch {summary['multiarch']['manifest_digest']} ({time.monotonic() - t0:.1f}s)")
    if "--with-debian" in flags:
        summary["debian"] = build_debian(out)
        log(f"debian    {summary['debian']['manifest_digest']} ({time.monotonic() - t0:.1f}s)")

    data = json.dumps(dict(sorted(summary.items())), indent=2, ensure_ascii=False) + "\n"
    tmp = f"{old}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
    os.rename(tmp, old)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
