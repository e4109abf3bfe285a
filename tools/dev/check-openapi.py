#!/usr/bin/env python3
"""check-openapi.py - docs/openapi.yaml is a valid OpenAPI 3.0 document that describes
exactly the routes of src/router.c. TAP output; tools/dev/check-docs.sh runs it (so
make check-docs and make test do), and `prove tools/dev/check-openapi.py` works too.

Checks, one TAP line each:
  - the file parses as YAML (anchors and aliases are expanded by the parser);
  - it validates against the OpenAPI 3.0 JSON Schema vendored beside this script
    (openapi-3.0-schema.json, see openapi-3.0-schema.LICENSE), formats included where
    the jsonschema module can check them;
  - every "$ref" is a local JSON pointer ("#/...") that resolves in the document;
  - every operation declares exactly the {name} parameters of its path template
    (in: path, required), as OpenAPI requires and its JSON Schema cannot check;
  - every {M_METHOD, "/path", ...} entry of src/router.c has that operation in
    "paths" (a '*' segment is written {name}); one line per route;
  - no operation in "paths" lacks its route, except paths marked
    "x-authsvc-handler: NAME" (served by SetHandler NAME, not by the router).

Exit status 0 when every check passes, 1 otherwise. AUTHSVC_OPENAPI and
AUTHSVC_ROUTER name other files (to check a merged router.c, or to test this script).
Needs python3-yaml and python3-jsonschema (tools/dev/deps.sh installs them).
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC = os.environ.get("AUTHSVC_OPENAPI", os.path.join(ROOT, "docs", "openapi.yaml"))
ROUTER = os.environ.get("AUTHSVC_ROUTER", os.path.join(ROOT, "src", "router.c"))
SCHEMA = os.path.join(HERE, "openapi-3.0-schema.json")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

results = []


def check(passed, name, detail=()):
    results.append((bool(passed), name, list(detail)))


def finish():
    print("1..%d" % len(results))
    failed = 0
    for i, (passed, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if passed else "not ok", i, name))
        for line in detail:
            print("# " + line)
        failed += not passed
    if failed:
        print("# %d of %d checks failed" % (failed, len(results)))
    sys.exit(1 if failed else 0)


def router_routes(path):
    """The router table's "METHOD /path" entries, '*' segments as they are."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return sorted(set("%s %s" % m for m in
                      re.findall(r'\{\s*M_([A-Z]+)\s*,\s*"(/[^"]*)"', text)))


def spec_operations(doc):
    """(routed, handled): "METHOD /path" with {name} segments as '*'; handled are
    those under x-authsvc-handler paths."""
    routed, handled = set(), set()
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        pattern = re.sub(r"\{[^/}]+\}", "*", path)
        into = handled if "x-authsvc-handler" in item else routed
        for method in METHODS:
            if method in item:
                into.add("%s %s" % (method.upper(), pattern))
    return routed, handled


def pointer(doc, ref):
    """The value at a local reference "#/a/b", or raise KeyError."""
    node = doc
    for part in ref[2:].split("/") if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(part)
    return node


def deref(doc, node):
    """node, or what its "$ref" points at."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = pointer(doc, node["$ref"])
    return node


def path_param_errors(doc):
    """Operations whose path parameters differ from their path template's names."""
    errors = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        want = set(re.findall(r"\{([^/}]+)\}", path))
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            have = set()
            for prm in (item.get("parameters") or []) + (op.get("parameters") or []):
                prm = deref(doc, prm)
                if isinstance(prm, dict) and prm.get("in") == "path":
                    have.add(prm.get("name"))
                    if prm.get("required") is not True:
                        errors.append("%s %s: path parameter %s is not required: true"
                                      % (method.upper(), path, prm.get("name")))
            if have != want:
                errors.append("%s %s: path parameters %s, template names %s"
                              % (method.upper(), path, sorted(have), sorted(want)))
    return errors


def refs(node, where="#"):
    """Every ($ref, where it is) in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v, where
            else:
                yield from refs(v, "%s/%s" % (where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from refs(v, "%s/%d" % (where, i))


def main():
    try:
        import yaml
        import jsonschema
    except ImportError as e:
        check(False, "python3-yaml and python3-jsonschema are installed",
              ["%s: apt-get install python3-yaml python3-jsonschema" % e])
        finish()

    try:
        with open(SPEC, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        check(isinstance(doc, dict), "%s parses as YAML" % os.path.relpath(SPEC, ROOT))
    except (OSError, yaml.YAMLError) as e:
        check(False, "%s parses as YAML" % SPEC, str(e).splitlines())
        finish()
    if not isinstance(doc, dict):
        finish()

    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    check(not errors, "it is a valid OpenAPI 3.0 document (%s)" % doc.get("openapi"),
          ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)",
                       e.message[:300]) for e in errors[:20]])

    bad = []
    n = 0
    for ref, where in refs(doc):
        n += 1
        if not ref.startswith("#"):
            bad.append("%s: %s is not a local reference" % (where, ref))
            continue
        try:
            pointer(doc, ref)
        except (KeyError, IndexError, ValueError):
            bad.append("%s: %s does not resolve" % (where, ref))
    check(n > 0 and not bad, "all %d $ref resolve" % n, bad)
    if not bad:
        perr = path_param_errors(doc)
        check(not perr, "every operation declares its path parameters", perr)

    routes = router_routes(ROUTER)
    routed, handled = spec_operations(doc)
    check(routes, "found %d routes in %s" % (len(routes), os.path.relpath(ROUTER, ROOT)))
    for rt in routes:
        shown = rt.replace("*", "{id}")
        check(rt in routed, "route %s is in openapi.yaml" % shown)
    extra = sorted(routed - set(routes))
    check(not extra, "openapi.yaml describes no route src/router.c lacks",
          ["%s (not in src/router.c; a handler's path needs x-authsvc-handler)" % e
           for e in extra])
    check(handled, "the handlers' paths (x-authsvc-handler) are described: %s"
          % ", ".join(sorted(handled)))
    finish()


if __name__ == "__main__":
    main()
