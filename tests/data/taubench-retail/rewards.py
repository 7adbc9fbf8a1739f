# Makes trajectories.jsonl: tau-bench retail trajectories with the reward tau-bench's own
# calculate_reward gives each, for envc's differential reward test (tests/taubench/). One line
# per trajectory: the 635 reference trajectories (each task's reference actions, then a reply
# stating its outputs) and perturbed ones (a call dropped, duplicated or swapped with its
# neighbour, an argument changed, an output left out of the reply or reworded), drawn with a
# fixed seed so the file is the same on every run.
#
# Usage: python3 rewards.py SHARED_TAUBENCH_DIR [PERTURBED [EARLIER]] > trajectories.jsonl
#   SHARED_TAUBENCH_DIR: the folder with retail/tasks.json and python/ (../shared/taubench)
#   PERTURBED: how many perturbations to draw (some draw nothing applicable and are skipped)
#   EARLIER: a trajectories.jsonl made before with the same seed; its rewards are reused for
#     lines with the same id and actions (the reference's reward takes about a second a line)
# Imports the reference's code (tools, types, calculate_reward); copies none of it. The
# reference's simulated user needs an OpenAI client, which computing rewards never uses.
import json
import random
import sys
import types

shared = sys.argv[1]
perturbed_count = int(sys.argv[2]) if len(sys.argv) > 2 else 2800
earlier = {}
if len(sys.argv) > 3:
    with open(sys.argv[3], encoding="utf-8") as f:
        for text in f:
            e = json.loads(text)
            earlier[(e["id"], json.dumps(e["actions"], sort_keys=True))] = {k: e[k] for k in ("reward", "r_actions", "outputs")}
sys.modules.setdefault("openai", types.SimpleNamespace(OpenAI=object))
sys.path.insert(0, f"{shared}/python")
from taubench_env.retail_env import TauBenchRetailEnv  # noqa: E402
from taubench_env.tau_bench_types import Action, Task, RESPOND_ACTION_NAME  # noqa: E402

with open(f"{shared}/retail/tasks.json", encoding="utf-8") as f:
    TASKS = json.load(f)

# an environment without its simulated user: only what calculate_reward reads
ENV = TauBenchRetailEnv.__new__(TauBenchRetailEnv)
ENV.tools = ENV.load_all_tools()
ENV.tools_map = {t.get_info()["function"]["name"]: t for t in ENV.tools}
ENV.terminate_tools = ENV.get_terminate_tools()
# the database as the reference loads it, read from disk once: calculate_reward reloads it
# for every trajectory (twice), which dominated the run; each call still gets a fresh copy
_DB_TEXT = json.dumps(ENV.load_database())
ENV.load_database = lambda: json.loads(_DB_TEXT)


def reference_reward(task, trajectory):
    """tau-bench's reward for an agent that took `trajectory`'s actions in `task`."""
    ENV.task = Task(user_id=task["user_id"], actions=[Action(**a) for a in task["actions"]], instruction=task["instruction"], outputs=task["outputs"])
    ENV.data = ENV.load_database()
    ENV.actions = []
    for a in trajectory:
        if a["name"] == RESPOND_ACTION_NAME:
            ENV.actions.append(Action(name=RESPOND_ACTION_NAME, kwargs={"content": a["content"]}))
            continue
        ENV.actions.append(Action(name=a["name"], kwargs=a["arguments"]))
        tool = ENV.tools_map.get(a["name"])
        try:
            # what the reference's step() does with a tool call
            tool.invoke(data=ENV.data, **a["arguments"]) if tool else None
        except Exception:
            pass
    result = ENV.calculate_reward()
    info = result.info
    return {
        "reward": result.reward,
        # the data part always, the outputs part when the task has outputs
        "r_actions": getattr(info, "r_actions", None),
        "outputs": getattr(info, "outputs", None),
    }


def reply_of(outputs):
    # a reply that states every output (tau-bench drops commas from replies before matching)
    return "Here is what I found: " + " ; ".join(outputs) + "." if outputs else "All done."


def calls(task):
    return [{"name": a["name"], "arguments": a["kwargs"]} for a in task["actions"]]


def with_reply(trajectory, outputs):
    """The calls, then the reply; the reply comes before a terminate tool (tau-bench ends the
    episode there), and nothing after the first terminate tool happens."""
    reply = {"name": RESPOND_ACTION_NAME, "content": reply_of(outputs)}
    for i, a in enumerate(trajectory):
        if a["name"] in ENV.terminate_tools:
            return trajectory[:i] + [reply, a]
    return trajectory + [reply]


# values seen per argument name across all reference actions: a changed argument takes another
# real value (an existing order, item or payment method) as well as an invented one
POOL = {}
for t in TASKS:
    for a in t["actions"]:
        for k, v in a["kwargs"].items():
            if isinstance(v, (str, int, float)):
                POOL.setdefault(k, set()).add(json.dumps(v))
POOL = {k: sorted(v) for k, v in POOL.items()}


def changed_value(rng, key, value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, list):
        if value and rng.random() < 0.5:
            return value[:-1]
        return value + value[-1:] if value else value
    if isinstance(value, (int, float)):
        return value + rng.choice([1, -1, 0.5])
    if isinstance(value, str):
        others = [json.loads(v) for v in POOL.get(key, []) if json.loads(v) != value]
        if others and rng.random() < 0.7:
            return rng.choice(others)
        return value + "x"
    return value


def reworded(rng, output):
    kinds = ["upper", "thousands", "dollar", "spaced", "digit", "truncate"]
    kind = rng.choice(kinds)
    if kind == "upper":
        return output.upper()
    if kind == "thousands":
        # 1093.34 -> 1,093.34: still found (commas are dropped from replies)
        try:
            return f"{float(output):,}"
        except ValueError:
            return output.replace(" ", ", ")
    if kind == "dollar":
        return "$" + output
    if kind == "spaced":
        return output.replace(".", ". ") if "." in output else " ".join(output)
    if kind == "digit":
        for i, c in enumerate(output):
            if c.isdigit():
                return output[:i] + str((int(c) + 1) % 10) + output[i + 1 :]
        return output + "s"
    return output[: max(1, len(output) - 2)]


def perturb(rng, task):
    trajectory = calls(task)
    outputs = list(task["outputs"])
    kinds = ["drop", "duplicate", "swap", "argument"] + (["omit_output", "reword_output"] if outputs else [])
    applied = []
    for _ in range(1 if rng.random() < 0.8 else 2):
        kind = rng.choice(kinds)
        tools = list(range(len(trajectory)))
        if kind == "drop" and tools:
            trajectory.pop(rng.choice(tools))
        elif kind == "duplicate" and tools:
            i = rng.choice(tools)
            trajectory.insert(i + 1, json.loads(json.dumps(trajectory[i])))
        elif kind == "swap" and len(tools) >= 2:
            i = rng.randrange(len(trajectory) - 1)
            trajectory[i], trajectory[i + 1] = trajectory[i + 1], trajectory[i]
        elif kind == "argument" and tools:
            i = rng.choice(tools)
            args = trajectory[i]["arguments"]
            if not args:
                continue
            key = rng.choice(sorted(args))
            trajectory[i] = {"name": trajectory[i]["name"], "arguments": {**args, key: changed_value(rng, key, args[key])}}
        elif kind == "omit_output" and outputs:
            outputs.pop(rng.randrange(len(outputs)))
        elif kind == "reword_output" and outputs:
            j = rng.randrange(len(outputs))
            outputs[j] = reworded(rng, outputs[j])
        else:
            continue
        applied.append(kind)
    return with_reply(trajectory, outputs), applied


def main():
    rng = random.Random(20261208)
    lines = []
    for t in TASKS:
        traj = with_reply(calls(t), t["outputs"])
        lines.append({"id": f"{t['split']}-{t['index']}", "task": f"{t['split']}-{t['index']}", "perturbed": [], "actions": traj})
    # tasks with outputs are perturbed more often: they exercise the answer checks
    weights = [3 if t["outputs"] else 1 for t in TASKS]
    for n in range(perturbed_count):
        t = rng.choices(TASKS, weights)[0]
        traj, applied = perturb(rng, t)
        if not applied:
            continue
        lines.append({"id": f"p{n}", "task": f"{t['split']}-{t['index']}", "perturbed": applied, "actions": traj})
    by_id = {f"{t['split']}-{t['index']}": t for t in TASKS}
    for line in lines:
        known = earlier.get((line["id"], json.dumps(line["actions"], sort_keys=True)))
        line.update(known if known is not None else reference_reward(by_id[line["task"]], line["actions"]))
        sys.stdout.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")


main()
