"""A Skywriting script's result, as `swarm run` prints it on its last line: always JSON,
also when it holds futures and references (the original's {"__ref__": [...]} form), and an
error at the `return` when it holds a function (which has no JSON form)."""

import json

from helpers import swarm_cli, write

SCRIPT = """
function one() { return 1; }
f = spawn(one, []);
words = package("words");
return {"future": f, "forced": *f, "list": [f, 2], "ref": words};
"""


def test_a_result_holding_futures_and_references_is_json(tmp_path):
    path = write(tmp_path, "result.sw", SCRIPT)
    data = write(tmp_path, "words.txt", "three little words\n")
    done = swarm_cli("run", "--package", f"words={data}", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])  # raises if it is not JSON
    tag, future_id = result["future"]["__ref__"]
    assert tag == "f2" and isinstance(future_id, str) and future_id
    assert result["list"] == [{"__ref__": ["f2", future_id]}, 2]
    assert result["forced"] == 1
    kind, ref_id, node = result["ref"]["__ref__"]
    assert kind == "ref" and ref_id and node in ("n1", "n2", "n3")


def test_print_and_str_of_a_future_are_json_too(tmp_path):
    path = write(tmp_path, "show.sw", 'function one() { return 1; }\n'
                 'f = spawn(one, []);\nprint(f);\nreturn str([f]);\n')
    done = swarm_cli("run", path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed, returned = done.stdout.splitlines()
    assert json.loads(printed)["__ref__"][0] == "f2"
    assert json.loads(json.loads(returned))[0] == json.loads(printed)


def test_a_result_holding_a_function_is_an_error_at_the_return(tmp_path):
    path = write(tmp_path, "fn.sw", "g = lambda x: x;\nreturn [g];\n")
    done = swarm_cli("run", path, cwd=tmp_path)
    assert done.returncode == 1
    assert "fn.sw:2:1: the script's result must be JSON, and it holds <function" \
        in done.stderr, done.stderr
