"""The C core's layout rules (issue 10), checked on the source so a change that breaks them fails.

- The file-level call graph is one way: no C file calls a function of a file that (directly or
  through others) calls back into it. Calls through function pointers (a request's ops, libcares'
  callbacks) are how lower layers reach higher ones, and are not edges.
- The core knows no result type: channel_core.c names no request kind and no result builder.
- c-ares deprecations: only compat.c silences them, locally; nothing defines CARES_NO_DEPRECATED.
"""
from __future__ import annotations

import re
from pathlib import Path

CSRC = Path(__file__).resolve().parent.parent / "csrc"

# A function definition at the start of a line: return type, name, '(' ... ending in ')' then '{'.
DEFINITION = re.compile(r"^(?:static\s+)?(?:inline\s+)?[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\(([^;{}]*?)\)\s*\{",
                        re.M | re.S)
CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def strip_comments_and_strings(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)


def sources() -> dict[str, str]:
    return {p.name: strip_comments_and_strings(p.read_text()) for p in sorted(CSRC.glob("*.c"))}


def defined_functions(text: str) -> dict[str, bool]:
    """Non-static function names defined in text (True) and static ones (False)."""
    found = {}
    for m in DEFINITION.finditer(text):
        head = text[m.start():m.start(1)]
        found[m.group(1)] = not head.lstrip().startswith("static")
    return found


def file_call_graph() -> dict[str, set[str]]:
    texts = sources()
    owner: dict[str, str] = {}
    for name, text in texts.items():
        for fn, exported in defined_functions(text).items():
            if exported:
                owner[fn] = name
    graph: dict[str, set[str]] = {name: set() for name in texts}
    for name, text in texts.items():
        for m in CALL.finditer(text):
            target = owner.get(m.group(1))
            if target is not None and target != name:
                graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_parser_finds_the_files_and_their_calls():
    graph = file_call_graph()
    # a few edges known to exist: if the parser stopped seeing calls, the other tests would pass
    assert "channel_core.c" in graph["query.c"]      # request_new, request_submit
    assert "host_results.c" in graph["host.c"]
    assert "answer.c" in graph["query.c"]
    assert sum(len(v) for v in graph.values()) > 30


def test_the_file_call_graph_has_no_cycle():
    assert find_cycle(file_call_graph()) is None, " -> ".join(find_cycle(file_call_graph()) or [])


def test_a_cycle_would_be_found():
    assert find_cycle({"a.c": {"b.c"}, "b.c": {"c.c"}, "c.c": {"a.c"}}) == ["a.c", "b.c", "c.c", "a.c"]
    assert find_cycle({"a.c": {"b.c"}, "b.c": set()}) is None


def test_the_core_knows_no_request_kind_or_result_type():
    core = sources()["channel_core.c"]
    for word in ("REQ_", "answer_build", "host_result", "abuf", "payload", "RT_", "RT5_"):
        assert word not in core, word
    request_h = (CSRC / "request.h").read_text()
    header = request_h[request_h.index("typedef struct request {"):request_h.index("} request;")]
    for field in ("payload", "extra", "steps", "qtype", "kind", "abuf"):
        assert not re.search(rf"\b{field}\b", strip_comments_and_strings(header)), field


def test_deprecations_are_silenced_in_compat_c_only():
    for path in sorted(CSRC.glob("*.[ch]")):
        text = strip_comments_and_strings(path.read_text())
        assert "CARES_NO_DEPRECATED" not in text, path.name
        if path.name != "compat.c":
            assert "-Wdeprecated-declarations" not in path.read_text(), path.name
    assert '"-Wdeprecated-declarations"' in (CSRC / "compat.c").read_text()


def test_csrc_readme_lists_every_file_in_layer_order():
    """csrc/README.md names every C file once, each after every file it calls."""
    order = list(dict.fromkeys(re.findall(r"`([a-z_]+\.c)`", (CSRC / "README.md").read_text())))
    graph = file_call_graph()
    assert sorted(order) == sorted(graph)
    position = {name: i for i, name in enumerate(order)}
    late = [(name, callee) for name in order for callee in graph[name] if position[callee] > position[name]]
    assert late == []
