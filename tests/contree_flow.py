#!/usr/bin/env python3
"""The ConTree flow end to end against a groved, with the Python standard library only.

    python3 tests/contree_flow.py --url http://127.0.0.1:7070 --token TOKEN \
        --registry 127.0.0.1:5000 [--repository library/busybox:flow]

It drives the API the way the public ConTree clients do (contree-api.md): a bearer token,
Accept-Encoding: gzip (SSE decoded frame by frame as it arrives), chunked uploads, 201 + Location
for operations, the result image taken from the completion event.
Steps: whoami; import an image from the registry (an operation, waited for through its events);
upload a file; spawn with files + env + stdin; follow the events to completion; read the result
image's file; tag it; branch from it twice in parallel; list images by tag prefix. Each step is
printed; any mismatch exits with status 1.
"""

import argparse
import base64
import gzip
import hashlib
import http.client
import json
import sys
import threading
import urllib.parse
import zlib

TERMINAL = {"SUCCESS", "FAILED", "CANCELLED"}


class Mismatch(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Mismatch(what)


def say(text):
    print(text, flush=True)


class Client:
    """One keep-alive connection to groved; a Client per thread."""

    def __init__(self, url, token):
        parsed = urllib.parse.urlsplit(url)
        check(parsed.scheme == "http" and parsed.hostname, f"not an http URL: {url}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.base = parsed.path.rstrip("/") + "/v1"
        self.token = token
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.conn

    def _headers(self, extra=None):
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept-Encoding": "gzip",
            "User-Agent": "contree-flow/1 (grove tests)",
        }
        headers.update(extra or {})
        return headers

    def request(self, method, path, body=None, headers=None, chunked=False):
        """(status, headers, body bytes): the whole response, gunzipped."""
        conn = self._connection()
        try:
            conn.request(method, self.base + path, body=body, headers=self._headers(headers),
                         encode_chunked=chunked)
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            self.conn = None
            raise
        if response.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conn = None
        return response.status, response.headers, data

    def json(self, method, path, payload=None, expect=200):
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        status, headers, data = self.request(method, path, body, headers)
        check(status == expect, f"{method} {path}: status {status}, expected {expect}: {data!r}")
        return headers, json.loads(data) if data else None

    def events(self, operation, last_event_id=None):
        """Yields the operation's events (parsed envelopes) up to its completion, following."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-Id"] = str(last_event_id)
        conn.request("GET", f"{self.base}/operations/{operation}/events?follow=1",
                     headers=self._headers(headers))
        response = conn.getresponse()
        check(response.status == 200, f"events of {operation}: status {response.status}")
        check(response.getheader("Content-Type", "").startswith("text/event-stream"),
              "events: not text/event-stream")
        gzipped = response.getheader("Content-Encoding") == "gzip"
        # Frames are flushed one by one: each read decodes to whole frames as they are sent.
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
        buffer = ""
        try:
            while True:
                chunk = response.read1(65536)
                if not chunk:
                    break
                text = decoder.decompress(chunk) if decoder else chunk
                buffer += text.decode()
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    fields = {}
                    for line in frame.splitlines():
                        if line.startswith(":"):
                            continue
                        name, _, value = line.partition(":")
                        fields[name] = fields.get(name, "") + value.removeprefix(" ")
                    if "data" not in fields:
                        continue
                    check(fields.get("event") != "sse_error", f"sse_error: {fields['data']}")
                    event = json.loads(fields["data"])
                    check(str(event["id"]) == fields.get("id"), f"frame id != event id: {frame}")
                    check(event["type"] == fields.get("event"), f"frame event != type: {frame}")
                    yield event
            if decoder:
                decoder.flush()
                check(decoder.eof, "the gzip stream ended without its trailer")
        finally:
            conn.close()


def follow_to_completion(client, operation, label):
    """Every event of the operation, in order, checked; returns (events, completion data)."""
    events = []
    for event in client.events(operation):
        check(event["id"] == len(events), f"{label}: event ids not 0, 1, 2, ...: {event['id']}")
        events.append(event)
        if event["type"] == "completion":
            break
    check(events, f"{label}: no events")
    check(events[0]["type"] == "init", f"{label}: the first event is {events[0]['type']}")
    check(events[-1]["type"] == "completion", f"{label}: the stream ended before completion")
    completion = events[-1]["data"]
    check(completion["status"] in TERMINAL, f"{label}: completion status {completion['status']}")
    return events, completion


def output_of(events, stream):
    """The text a stream of spid 1 produced, from its stdout/stderr chunks."""
    out = b""
    for event in events:
        if event["type"] == stream and event.get("spid", 1) == 1:
            value = event["data"]["value"]
            if event["data"].get("encoding") == "base64":
                out += base64.b64decode(value)
            else:
                out += value.encode()
    return out.decode(errors="replace")


def spawn(client, request):
    headers, body = client.json("POST", "/instances", request, expect=201)
    uuid = body["uuid"]
    check(headers.get("Location", "").endswith(f"/v1/operations/{uuid}"),
          f"spawn: Location {headers.get('Location')}")
    return uuid


def run(client, request, label):
    """Spawns, follows to completion; returns (operation, events, result image uuid)."""
    uuid = spawn(client, request)
    events, completion = follow_to_completion(client, uuid, label)
    check(completion["status"] == "SUCCESS", f"{label}: {completion}")
    exits = [e for e in events if e["type"] == "exit" and e.get("spid") == 1]
    check(len(exits) == 1 and exits[0]["data"]["code"] == 0, f"{label}: exit {exits}")
    _, operation = client.json("GET", f"/operations/{uuid}")
    check(operation["status"] == "SUCCESS", f"{label}: operation {operation['status']}")
    check(operation["result_image_uuid"] == completion["result_image_uuid"],
          f"{label}: operation and completion disagree on the result image")
    check(operation["result"]["image"] == completion["result_image_uuid"],
          f"{label}: result.image")
    return uuid, events, completion["result_image_uuid"]


def download(client, image, path):
    query = urllib.parse.urlencode({"path": path})
    return client.request("GET", f"/inspect/{image}/download?{query}")


def step_whoami(client):
    _, me = client.json("GET", "/whoami")
    check(isinstance(me.get("token_uuid"), str) and len(me["token_uuid"]) == 36,
          f"whoami token_uuid: {me}")
    check("token_expiration" in me, "whoami: no token_expiration")
    for permission in ("list", "spawn", "spawn_disposable", "import", "cancel", "set_image_tag"):
        check(me["permissions"].get(permission) is True, f"whoami: permission {permission}")
    check(me["limits"]["instance_max_timeout"] > 0, "whoami: instance_max_timeout")
    say(f"whoami: token {me['token_uuid']}, limits {me['limits']}")


def step_import(client, registry, repository):
    url = f"docker://{registry}/{repository}"
    _, body = client.json("POST", "/images/import",
                          {"registry": {"url": url}, "tag": "flow/imported:1", "timeout": 300},
                          expect=201)
    operation = body["uuid"]
    say(f"import {url}: operation {operation}")
    events, completion = follow_to_completion(client, operation, "import")
    check(completion["status"] == "SUCCESS", f"import: {completion}")
    image = completion["result_image_uuid"]
    _, op = client.json("GET", f"/operations/{operation}")
    check(op["kind"] == "image_import", f"import: kind {op['kind']}")
    check(op["result"]["tag"] == "flow/imported:1", f"import: result.tag {op['result']}")
    say(f"  {len(events)} events, image {image} tagged flow/imported:1")
    return image


def step_upload(client):
    content = b"#!/bin/sh\n" \
              b"read line\n" \
              b"echo \"$FLOW_GREETING $line\"\n" \
              b"mkdir -p /data\n" \
              b"printf '%s\\n%s\\n' \"$FLOW_GREETING\" \"$line\" > /data/greeting\n"
    sha256 = hashlib.sha256(content).hexdigest()
    # A file object is sent chunked (no Content-Length), as contree-client sends files.
    pieces = (content[i:i + 7] for i in range(0, len(content), 7))
    status, _, data = client.request("POST", "/files", body=pieces,
                                     headers={"Content-Type": "application/octet-stream"},
                                     chunked=True)
    check(status == 201, f"upload: status {status}: {data!r}")
    file = json.loads(data)
    check(file["sha256"] == sha256 and file["size"] == len(content), f"upload: {file}")
    status, _, data = client.request("POST", "/files", body=content,
                                     headers={"Content-Type": "application/octet-stream"})
    check(status == 201 and json.loads(data)["uuid"] == file["uuid"],
          f"upload again: the same bytes must be the same file: {data!r}")
    _, found = client.json("GET", f"/files/{sha256}")
    check(found["uuid"] == file["uuid"], f"files/{{sha256}}: {found}")
    status, _, _ = client.request("HEAD", f"/files/{sha256}")
    check(status == 200, f"HEAD files/{{sha256}}: {status}")
    say(f"upload: file {file['uuid']} sha256 {sha256[:12]}... {file['size']} bytes")
    return file["uuid"]


def step_spawn(client, image, file_uuid):
    request = {
        "command": "/opt/flow/greet",
        "image": image,
        "files": {"/opt/flow/greet": {"uuid": file_uuid, "mode": "0755"}},
        "env": {"FLOW_GREETING": "hello"},
        "stdin": {"value": "from stdin\n", "encoding": "ascii", "close": True},
        "timeout": 60,
    }
    uuid, events, result = run(client, request, "spawn")
    stdout = output_of(events, "stdout")
    check(stdout == "hello from stdin\n", f"spawn: stdout {stdout!r}")
    check(result and result != image, f"spawn: result image {result}")
    types = [e["type"] for e in events]
    check(types[:2] == ["init", "spawn"], f"spawn: events {types}")
    say(f"spawn: operation {uuid}, {len(events)} events ({' '.join(types)}), image {result}")
    return result


def step_read(client, image):
    status, headers, data = download(client, image, "/data/greeting")
    check(status == 200, f"download: status {status}: {data!r}")
    check(data == b"hello\nfrom stdin\n", f"download: {data!r}")
    status, _, _ = download(client, image, "/data/nothing-here")
    check(status == 404, f"download of a missing file: {status}")
    say(f"read: /data/greeting of {image} is {data!r}")


def step_tag(client, image):
    _, tagged = client.json("PATCH", f"/images/{image}/tag", {"tag": "flow/base:1"})
    check(tagged["uuid"] == image and tagged["tag"] == "flow/base:1", f"tag: {tagged}")
    status, headers, _ = client.request("GET", "/inspect/?tag=" +
                                        urllib.parse.quote("flow/base:1", safe=""))
    check(status == 302, f"inspect ?tag=: status {status}")
    location = headers.get("Location", "")
    check(location.rstrip("/").split("/")[-1] == image, f"inspect ?tag=: Location {location}")
    say(f"tag: {image} is flow/base:1")


def step_branch(args):
    """Two runs from the same image at once, each writing its own file."""
    results = {}
    errors = []
    barrier = threading.Barrier(2)

    def branch(name):
        try:
            client = Client(args.url, args.token)
            request = {
                "command": f"echo {name} > /data/{name} && ls /data",
                "shell": True,
                "image": "tag:flow/base:1",
            }
            barrier.wait(timeout=60)
            results[name] = run(client, request, f"branch {name}")
        except Exception as error:  # reported by the main thread
            errors.append(f"branch {name}: {error!r}")

    threads = [threading.Thread(target=branch, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(not errors, "; ".join(errors))
    client = Client(args.url, args.token)
    _, base = client.json("GET", "/images?tag=flow/base:1")
    base_uuid = base["images"][0]["uuid"]
    images = {}
    for name, other in (("left", "right"), ("right", "left")):
        operation, events, image = results[name]
        check(output_of(events, "stdout") == f"greeting\n{name}\n",
              f"branch {name}: ls /data printed {output_of(events, 'stdout')!r}")
        check(image not in (base_uuid, None), f"branch {name}: result image {image}")
        status, _, data = download(client, image, f"/data/{name}")
        check(status == 200 and data == f"{name}\n".encode(), f"branch {name}: own file {data!r}")
        status, _, _ = download(client, image, f"/data/{other}")
        check(status == 404, f"branch {name} sees the other branch's file: {status}")
        status, _, data = download(client, image, "/data/greeting")
        check(status == 200 and data == b"hello\nfrom stdin\n", f"branch {name}: base file")
        _, info = client.json("GET", f"/inspect/{image}/")
        check(info["operation_uuid"] == operation, f"branch {name}: operation_uuid {info}")
        client.json("PATCH", f"/images/{image}/tag", {"tag": f"flow/branch/{name}"})
        images[name] = image
        say(f"branch {name}: operation {operation}, image {image}, sees only /data/{name}")
    check(images["left"] != images["right"], "the two branches have the same image")
    return base_uuid, images


def step_list(client, base, branches):
    _, listed = client.json("GET", "/images?tag=" + urllib.parse.quote("flow/", safe=""))
    tags = {image["tag"]: image["uuid"] for image in listed["images"]}
    check(set(tags) == {"flow/imported:1", "flow/base:1", "flow/branch/left",
                        "flow/branch/right"}, f"images ?tag=flow/: {sorted(tags)}")
    check(tags["flow/base:1"] == base, "images ?tag=flow/: flow/base:1")
    _, listed = client.json("GET", "/images?tag=flow/branch/&limit=10")
    found = {image["tag"]: image["uuid"] for image in listed["images"]}
    check(found == {f"flow/branch/{name}": uuid for name, uuid in branches.items()},
          f"images ?tag=flow/branch/: {found}")
    say(f"list: ?tag=flow/ has {len(tags)} images, ?tag=flow/branch/ has {sorted(found)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="groved's base URL, e.g. http://host:7070")
    parser.add_argument("--token", required=True, help="a bearer token groved accepts")
    parser.add_argument("--registry", required=True, help="host:port of the registry to import")
    parser.add_argument("--repository", default="library/busybox:flow",
                        help="repository:tag of a busybox image in that registry")
    args = parser.parse_args()
    client = Client(args.url, args.token)
    try:
        step_whoami(client)
        imported = step_import(client, args.registry, args.repository)
        file_uuid = step_upload(client)
        result = step_spawn(client, imported, file_uuid)
        step_read(client, result)
        step_tag(client, result)
        base, branches = step_branch(args)
        check(base == result, "flow/base:1 does not name the spawn's result")
        step_list(client, base, branches)
    except Mismatch as mismatch:
        say(f"MISMATCH: {mismatch}")
        return 1
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as error:
        say(f"ERROR: {error!r}")
        return 1
    say("the ConTree flow passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
