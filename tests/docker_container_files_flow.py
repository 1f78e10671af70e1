#!/usr/bin/python3
"""A container's files through docker-py 5.0.3's low-level API (Debian's python3-docker):
get_archive, put_archive, diff, export and commit, against a groved serving the Docker API on
--socket, on the container --container (made by the test, which ran
"mkdir /data; echo one > /data/a" in it). Prints "the container files flow passed".
"""

import argparse
import io
import os
import tarfile

import docker


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--container", required=True)
    args = parser.parse_args()
    api = docker.APIClient(base_url="unix://" + args.socket, version="1.41")
    ctr = args.container

    stream, stat = api.get_archive(ctr, "/data/a")
    check(stat["name"] == "a" and stat["size"] == 4, f"stat {stat}")
    check(stat["mode"] & 0o777 == 0o644, f"mode {stat}")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        check(tar.getnames() == ["a"], f"names {tar.getnames()}")
        check(tar.extractfile("a").read() == b"one\n", "content")
    _, dir_stat = api.get_archive(ctr, "/data")
    check(dir_stat["mode"] & (1 << 31), f"a directory's mode {dir_stat}")
    try:
        api.get_archive(ctr, "/nope")
        raise AssertionError("a missing path was found")
    except docker.errors.NotFound:
        pass

    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        data = b"from python\n"
        info = tarfile.TarInfo("py.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    check(api.put_archive(ctr, "/data", payload.getvalue()) is True, "put_archive")
    stream, _ = api.get_archive(ctr, "/data/py.txt")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        check(tar.extractfile("py.txt").read() == b"from python\n", "put then get")
    try:
        api.put_archive(ctr, "/data/a", payload.getvalue())
        raise AssertionError("extracted into a file")
    except docker.errors.APIError as error:
        check(error.status_code == 400, str(error))

    # Compressed bodies, sniffed from their first bytes as dockerd does.
    for codec in ("gz", "bz2", "xz"):
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:" + codec) as tar:
            data = f"packed with {codec}\n".encode()
            info = tarfile.TarInfo(f"packed.{codec}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        check(api.put_archive(ctr, "/data", packed.getvalue()) is True, f"put_archive {codec}")
        stream, _ = api.get_archive(ctr, f"/data/packed.{codec}.txt")
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            got = tar.extractfile(f"packed.{codec}.txt").read()
            check(got == f"packed with {codec}\n".encode(), f"{codec} put then get: {got}")

    # A hostile gzip tar is refused as a plain one is: ".." and a path through a symlink to
    # the host's /tmp never reach the host.
    marker = f"grove-hostile-{os.getpid()}"
    for name in (f"../../../../tmp/{marker}", f"esc/{marker}"):
        hostile = io.BytesIO()
        with tarfile.open(fileobj=hostile, mode="w:gz") as tar:
            link = tarfile.TarInfo("esc")
            link.type = tarfile.SYMTYPE
            link.linkname = "/tmp"
            tar.addfile(link)
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
        try:
            api.put_archive(ctr, "/data", hostile.getvalue())
            check(name.startswith("esc/"), f"{name} was accepted")
        except docker.errors.APIError as error:
            check(error.status_code == 400, f"{name}: {error}")
        check(not os.path.exists(f"/tmp/{marker}"), f"{name} reached the host's /tmp")

    changes = {c["Path"]: c["Kind"] for c in api.diff(ctr)}
    check(changes.get("/data") == 1 and changes.get("/data/py.txt") == 1, f"diff {changes}")

    exported = b"".join(api.export(ctr))
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        names = tar.getnames()
    check("bin/busybox" in names and "data/py.txt" in names, "export")

    committed = api.commit(ctr, repository="pycommit", tag="1", message="from py", author="py",
                           changes=["ENV PY=1"], conf={"Labels": {"by": "py"}})
    check(committed["Id"].startswith("sha256:"), f"commit {committed}")
    image = api.inspect_image("pycommit:1")
    check("PY=1" in image["Config"]["Env"], f"env {image['Config']['Env']}")
    check(image["Config"]["Labels"].get("by") == "py", f"labels {image['Config']['Labels']}")
    check(image["Author"] == "py", f"author {image['Author']}")
    print("the container files flow passed")


if __name__ == "__main__":
    main()
