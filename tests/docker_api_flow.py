#!/usr/bin/python3
"""groved's Docker API driven by docker-py 5.0.3 (Debian's python3-docker) and aiohttp.

Run by DockerApiTest.ROOT_PythonClients against a groved serving the Docker API on --socket,
with an image pushed to a local registry (--registry host:port, --repository, --tag). Prints
"the Docker API flow passed" when every check held; any failure raises.
"""

import argparse
import asyncio
import io
import json
import tarfile
import time

import aiohttp
import docker


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def system(client, socket):
    check(client.ping() is True, "ping")
    version = client.version()
    check(version["ApiVersion"] == "1.41", f"version {version}")
    check("GoVersion" in version and "Version" in version, "version keys")
    info = client.info()
    for key in ("Containers", "Images", "Debug", "ID", "ServerVersion", "ExperimentalBuild", "Name"):
        check(key in info, f"info has {key}")
    df = client.df()
    check(isinstance(df["Images"], list) and "LayersSize" in df, f"df {df}")
    too_new = docker.APIClient(base_url="unix://" + socket, version="1.99")
    try:
        too_new.version(api_version=True)
        raise AssertionError("API 1.99 was accepted")
    except docker.errors.APIError as error:
        check(error.status_code == 400 and "too new" in str(error), str(error))


def images(client, name):
    image = client.images.pull(name.rsplit(":", 1)[0], tag=name.rsplit(":", 1)[1])
    check(name in image.tags, f"pulled tags {image.tags}")
    check(image.id.startswith("sha256:") and len(image.id) == 71, image.id)
    lines = list(client.api.pull(name.rsplit(":", 1)[0], tag=name.rsplit(":", 1)[1],
                                 stream=True, decode=True))
    check(any("Image is up to date" in line.get("status", "") for line in lines), str(lines))
    check(client.images.get(image.short_id).id == image.id, "lookup by short id")
    check(any(image.id == listed.id for listed in client.images.list()), "listed")
    check(image.history(), "history")
    check(image.tag("pytag", "1"), "tag")
    tagged = client.images.get("pytag:1")
    check("pytag:1" in tagged.tags, f"tags {tagged.tags}")
    check(client.images.list(filters={"reference": "pytag"})[0].id == tagged.id, "reference filter")

    try:
        client.images.get("nosuch:1")
        raise AssertionError("nosuch found")
    except docker.errors.ImageNotFound as error:
        check("No such image: nosuch:1" in str(error), str(error))
    # As dockerd with a local registry: "manifest for ... not found" is a 404, NotFound.
    try:
        client.images.pull(name.rsplit("/", 1)[0] + "/nosuch", tag="1")
        raise AssertionError("a missing repository was pulled")
    except docker.errors.NotFound as error:
        check(error.status_code == 404, str(error))
    try:
        client.images.remove(image.id)
        raise AssertionError("an image with a child was removed")
    except docker.errors.APIError as error:
        check(error.status_code == 409, str(error))

    # save, load back, and a broken load.
    data = b"".join(tagged.save(named=True))
    with tarfile.open(fileobj=io.BytesIO(data)) as saved:
        check("manifest.json" in saved.getnames(), str(saved.getnames()))
    client.images.remove("pytag:1")
    loaded = client.images.load(data)
    check(any("pytag:1" in each.tags for each in loaded), str(loaded))
    try:
        client.images.load(b"not a tar")
        raise AssertionError("garbage was loaded")
    except docker.errors.ImageLoadError:
        pass

    # import of a root filesystem tarball.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as rootfs:
        info = tarfile.TarInfo("hello")
        info.size = 6
        rootfs.addfile(info, io.BytesIO(b"hello\n"))
    out = client.api.import_image_from_data(buf.getvalue(), repository="pyimport", tag="1")
    check("sha256:" in out, out)
    check(client.images.get("pyimport:1").id in out, out)
    client.images.remove("pyimport:1")

    pruned = client.images.prune()
    check("ImagesDeleted" in pruned and "SpaceReclaimed" in pruned, str(pruned))


def events(client, since):
    seen = [event["Action"] for event in client.events(since=since, until=int(time.time()) + 1,
                                                        decode=True,
                                                        filters={"type": "image"})]
    for action in ("pull", "tag", "delete", "untag", "load", "import", "save"):
        check(action in seen, f"{action} in {seen}")


async def aiohttp_streams(socket, name):
    """Line-delimited JSON as aiodocker reads it: one object per readline()."""
    connector = aiohttp.UnixConnector(path=socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        repo, tag = name.rsplit(":", 1)
        async with session.post("http://docker/v1.41/images/create",
                                params={"fromImage": repo, "tag": tag}) as response:
            check(response.status == 200, f"pull status {response.status}")
            lines = []
            while True:
                line = await response.content.readline()
                if not line:
                    break
                lines.append(json.loads(line))
            check(lines and "status" in lines[-1], str(lines))
        async with session.get("http://docker/v1.41/events") as stream:
            check(stream.status == 200, "events status")
            async with session.post(f"http://docker/v1.41/images/{name}/tag",
                                    params={"repo": "aio", "tag": "1"}) as tagged:
                check(tagged.status == 201, f"tag status {tagged.status}")
            line = await asyncio.wait_for(stream.content.readline(), 10)
            event = json.loads(line)
            check(event["Action"] == "tag" and event["Actor"]["Attributes"]["name"] == "aio:1",
                  str(event))
            # Closing the stream partway, as docker-py's CancellableEventsTest does.
        async with session.delete("http://docker/v1.41/images/aio:1") as removed:
            check(removed.status == 200, f"remove status {removed.status}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--tag", required=True)
    args = parser.parse_args()
    check(docker.__version__ == "5.0.3", f"docker-py {docker.__version__}")
    since = int(time.time()) - 1
    client = docker.DockerClient(base_url="unix://" + args.socket, version="1.41")
    name = f"{args.registry}/{args.repository}:{args.tag}"
    system(client, args.socket)
    images(client, name)
    asyncio.run(aiohttp_streams(args.socket, name))
    events(client, since)
    print("the Docker API flow passed")


if __name__ == "__main__":
    main()
