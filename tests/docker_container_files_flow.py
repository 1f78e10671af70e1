#!/usr/bin/python3
"""A container's files through docker-py 5.0.3's low-level API (Debian's python3-docker):
get_archive, put_archive, diff, export and commit, against a groved serving the Docker API on
--socket, on the container --container (made by the test, which ran
"mkdir /data; echo one > /data/a" in it). Prints "the container files flow passed".
"""

import argparse
import io
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
