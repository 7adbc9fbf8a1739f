# The Python reference for the start-up bench's tau-bench row: tau-bench retail's own tools
# (../shared/taubench/python, as packaged by EnvScaler) replay the reference actions of the 635
# tasks, each on a fresh deep copy of db.json (as tau-bench's environment does), and compare
# each output with expect.jsonl, the work `envc replay --episodes --expect` does.
# Usage: python3 bench/taubench-reference.py REFERENCE_DIR DB EPISODES EXPECT
# Prints `reference: N/M identical`. Imports the reference's code; copies none of it.
import copy
import json
import sys
import types

reference, db_file, episodes_file, expect_file = sys.argv[1:5]
# the package imports an OpenAI client for its simulated user, which a replay never uses
sys.modules.setdefault("openai", types.SimpleNamespace(OpenAI=object))
sys.path.insert(0, reference)
from taubench_env.envs.retail.tools import ALL_TOOLS  # noqa: E402

tools = {t.get_info()["function"]["name"]: t for t in ALL_TOOLS}
with open(db_file, encoding="utf-8") as f:
    db = json.load(f)
with open(expect_file, encoding="utf-8") as f:
    expected = {e["id"]: e for e in map(json.loads, f)}


def same(want, got):
    if "text" in want:
        return want["text"] == got
    if "json" in want:
        try:
            return json.loads(got) == want["json"]
        except ValueError:
            return False
    return True


identical = 0
total = 0
with open(episodes_file, encoding="utf-8") as f:
    for line in f:
        episode = json.loads(line)
        total += 1
        data = copy.deepcopy(db)
        outputs = []
        for call in episode["calls"]:
            tool = tools.get(call["name"])
            try:
                out = tool.invoke(data=data, **call["arguments"]) if tool else f"Unknown action {call['name']}"
            except Exception as e:  # as tau-bench's env.step does
                out = f"Error: {e}"
            outputs.append(out)
        want = expected[episode["id"]]["outputs"]
        if len(want) == len(outputs) and all(same(w, g) for w, g in zip(want, outputs)):
            identical += 1
print(f"reference: {identical}/{total} identical")
