#!/usr/bin/env python3
"""The local AWS: start MiniStack, deploy what `sam build` made to it with `sam deploy`, write the stack outputs.

    local_stack.py up      start the emulator and the local OIDC issuer if needed, then `sam deploy --config-env
                           local` of .aws-sam/build (samconfig.toml), as a deploy to AWS would
    local_stack.py up --stack cognito
                           the same template again as deployed by default, with its own Cognito user pool
    local_stack.py up --stack python-peer
                           the same for the benchmark's Python/Powertools peer (tests/python-peer), beside it
    local_stack.py down    stop what this script started
    local_stack.py status  print the stack outputs

Everything goes through the standard AWS_ENDPOINT_URL. Point it at a LocalStack (or any emulator you run yourself)
and `up` deploys there instead of starting MiniStack.
"""

import argparse
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"
PID_FILE = STATE / "ministack.pid"
LOG_FILE = STATE / "ministack.log"
ISSUER_PID_FILE = STATE / "oidc-issuer.pid"
ISSUER_LOG_FILE = STATE / "oidc-issuer.log"
ISSUER_KEY_FILE = STATE / "oidc-key.pem"
ISSUER_PORT = os.environ.get("LOCAL_ISSUER_PORT", "4567")
ISSUER = f"http://127.0.0.1:{ISSUER_PORT}"
# `make faults` sets this: a fault-injecting proxy (tests/faults/proxy.py) then sits between the functions and AWS.
FAULT_PROXY_PORT = os.environ.get("FAULT_PROXY_PORT")
FAULT_PROXY_PID_FILE = STATE / "fault-proxy.pid"
FAULT_PROXY_LOG_FILE = STATE / "fault-proxy.log"
OUTPUTS_FILE = STATE / "stack-outputs.json"
SAMCONFIG = ROOT / "samconfig.toml"
SAM_BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
SAM = ROOT / ".local" / "tools" / "bin" / "sam"

# An endpoint the caller set means "deploy to my emulator"; read before aws_env() fills in the default.
CALLER_ENDPOINT = os.environ.get("AWS_ENDPOINT_URL")


# samconfig.toml's `local` environment: where `sam deploy` puts the stack, and its parameters (explained there).
SAM_LOCAL = tomllib.loads(SAMCONFIG.read_text())["local"]["deploy"]["parameters"]
ARTIFACT_BUCKET = SAM_LOCAL["s3_bucket"]
# Those parameters, plus the two that depend on this machine: its architecture and the local OIDC issuer's port.
LOCAL_PARAMETERS = {
    "Architecture": "x86_64" if os.uname().machine == "x86_64" else "arm64",
    "JwtIssuer": ISSUER,
    **dict(override.split("=", 1) for override in SAM_LOCAL["parameter_overrides"]),
}
AUDIENCE = LOCAL_PARAMETERS["JwtAudience"]

PEER_BUILD = STATE / "python-peer"


@dataclass(frozen=True)
class LocalStack:
    """One stack this script deploys: its template, name, outputs file, code and the local parameters its template
    declares. Code is None for the intake, which `sam build` built and `sam deploy` deploys; otherwise a logical id ->
    built folder map, each zipped and uploaded here (the benchmark's Python peer, which pip builds)."""

    template: Path
    name: str
    outputs: Path
    code: dict | None
    parameters: dict


STACKS = {
    "intake": LocalStack(
        SAM_BUILT_TEMPLATE,
        os.environ.get("STACK_NAME", SAM_LOCAL["stack_name"]),
        OUTPUTS_FILE,
        None,
        LOCAL_PARAMETERS,
    ),
    # The template as deployed by default: its own Cognito user pool issues the tokens (no JwtIssuer), the token
    # function decides who gets one. `make e2e` deploys it for the sign-in tests; the intake stack above stands for
    # a deployment with the trial's own identity provider (the local OIDC issuer).
    "cognito": LocalStack(
        SAM_BUILT_TEMPLATE,
        f"{SAM_LOCAL['stack_name']}-cognito",
        STATE / "cognito-stack-outputs.json",
        None,
        {k: v for k, v in LOCAL_PARAMETERS.items() if k not in ("JwtIssuer", "JwtAudience")},
    ),
    # `make bench`'s Python/Powertools peer: the same event source settings and issuer as the intake's local stack.
    "python-peer": LocalStack(
        ROOT / "tests" / "python-peer" / "template.yaml",
        "epro-intake-python-peer",
        STATE / "python-peer-outputs.json",
        {"SubmitFunction": PEER_BUILD / "submit", "ProcessFunction": PEER_BUILD / "process"},
        {k: LOCAL_PARAMETERS[k] for k in ("Architecture", "ProcessTimeoutSeconds", "ProcessMaximumConcurrency",
                                          "BatchSize", "MaximumBatchingWindowInSeconds", "JwtIssuer", "JwtAudience",
                                          "LogRetentionDays")},
    ),
}


def log(message):
    print(f"[local-aws] {message}", file=sys.stderr, flush=True)


def endpoint():
    port = os.environ.get("LOCAL_AWS_PORT", "4566")
    return os.environ.get("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")


def aws_env():
    """The emulator's region and root credentials, whatever the shell holds: a real key never reaches it."""
    env = {
        "AWS_ENDPOINT_URL": endpoint(),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(env)
    return env


def client(service):
    import boto3  # installed in the local AWS venv, imported late so `--help` works anywhere

    return boto3.client(service, endpoint_url=endpoint(), region_name=os.environ["AWS_REGION"])


def reachable():
    """Something answers: MiniStack, or another emulator such as LocalStack (which answers 404 there)."""
    return answers(f"{endpoint()}/_ministack/health")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def spawn(name, argv, env, pid_file, log_file, ready_url):
    """Starts a helper in its own process group and waits until it answers on ready_url."""
    STATE.mkdir(exist_ok=True)
    with open(log_file, "ab") as log_output:
        process = subprocess.Popen(argv, env=env, stdout=log_output, stderr=subprocess.STDOUT, start_new_session=True)
    pid_file.write_text(str(process.pid))
    for _ in range(100):
        if answers(ready_url):
            log(f"{name} started (pid {process.pid}, log {log_file.relative_to(ROOT)})")
            return
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode}; see {log_file}")
        time.sleep(0.2)
    sys.exit(f"{name} did not answer on {ready_url} within 20 s; see {log_file}")


def stop(name, pid_file):
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)  # a process group: MiniStack's function workers are its children
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)
    log(f"{name} (pid {pid}) stopped")


def start_issuer():
    discovery = f"{ISSUER}/.well-known/openid-configuration"
    if answers(discovery):
        log(f"using the OIDC issuer already answering at {ISSUER}")
        return
    argv = [sys.executable, str(ROOT / "infra" / "oidc_issuer.py"), "--port", ISSUER_PORT, "--audience", AUDIENCE,
            "--key-file", str(ISSUER_KEY_FILE)]
    spawn("OIDC issuer", argv, dict(os.environ), ISSUER_PID_FILE, ISSUER_LOG_FILE, discovery)


def start_fault_proxy():
    control = f"http://127.0.0.1:{FAULT_PROXY_PORT}/_faults"
    if answers(control):
        return
    argv = [sys.executable, str(ROOT / "tests" / "faults" / "proxy.py"), "--port", FAULT_PROXY_PORT,
            "--upstream", endpoint()]
    spawn("fault proxy", argv, dict(os.environ), FAULT_PROXY_PID_FILE, FAULT_PROXY_LOG_FILE, control)


def start_emulator():
    if reachable():
        log(f"using the local AWS already answering at {endpoint()}")
        return
    if CALLER_ENDPOINT:
        sys.exit(f"AWS_ENDPOINT_URL={CALLER_ENDPOINT} does not answer; start your emulator first")
    ministack = Path(sys.executable).parent / "ministack"
    port = endpoint().rsplit(":", 1)[-1].strip("/")
    STATE.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **aws_env(),
        "GATEWAY_PORT": port,
        "BIND_HOST": "127.0.0.1",
        # The emulator's account concurrency limit. Its default scales with memory, so on a small many-GiB box a
        # burst spawns hundreds of function processes that starve each other of CPU. Sized so that the demo's
        # clients (16) plus the event source (5) stay below it: a throttled event-source invocation would leave
        # its messages to be received again, and five of those dead-letter a valid submission.
        "LAMBDA_ACCOUNT_CONCURRENCY": os.environ.get("LOCAL_LAMBDA_CONCURRENCY", str(16 * (os.cpu_count() or 2))),
        # Every API request holds an emulator thread while the function inside it calls back into the emulator
        # (SQS, DynamoDB) on another: with the default 64 a burst waits on itself until the functions time out.
        "MINISTACK_WORKER_THREADS": os.environ.get("MINISTACK_WORKER_THREADS", "512"),
        # Enforce IAM: each function calls with its own role's session, so a permission missing from the template
        # fails here as it would on AWS. (Our own deploy and test calls use the account's root credentials.)
        "AUTH": "true",
        # A pre-token-generation trigger that fails stops the token, as on AWS (the emulator's default issues it).
        "MINISTACK_COGNITO_PRETOKEN_STRICT": "1",
        # The functions inherit this, so the SDK inside them talks to the emulator, not to AWS.
        "AWS_ENDPOINT_URL": endpoint(),
    }
    if FAULT_PROXY_PORT:
        # The SDK's service-specific endpoints: the functions' DynamoDB and SQS calls go through the proxy, while
        # the emulator's own event source and our deploy and audit calls do not.
        proxy = f"http://127.0.0.1:{FAULT_PROXY_PORT}"
        env.update({"AWS_ENDPOINT_URL_DYNAMODB": proxy, "AWS_ENDPOINT_URL_SQS": proxy})
        log(f"the functions reach DynamoDB and SQS through the fault proxy at {proxy}")
    spawn("MiniStack", [str(ministack)], env, PID_FILE, LOG_FILE, f"{endpoint()}/_ministack/health")


def stop_all():
    stop("MiniStack", PID_FILE)
    stop("fault proxy", FAULT_PROXY_PID_FILE)
    stop("OIDC issuer", ISSUER_PID_FILE)
    ISSUER_KEY_FILE.unlink(missing_ok=True)  # the next stack gets a fresh key
    for stack in STACKS.values():  # nothing may take a stopped stack's outputs for a running one
        stack.outputs.unlink(missing_ok=True)


def zipped(folder):
    """A built Python function's folder as a Lambda zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts:
                info = zipfile.ZipInfo(file.relative_to(folder).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                archive.writestr(info, file.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ensure_bucket(s3):
    try:
        s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def package(s3, stack):
    """Zips each built function and uploads it under its content hash, so a code change updates the stack."""
    ensure_bucket(s3)
    locations = {}
    for logical_id, path in stack.code.items():
        if not path.exists():
            sys.exit(f"{path.relative_to(ROOT)} is missing: build it first (make bench builds the peer)")
        data = zipped(path)
        key = f"{stack.name}/{path.name}/{hashlib.sha256(data).hexdigest()}.zip"
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=data)
        locations[logical_id] = f"s3://{ARTIFACT_BUCKET}/{key}"
        log(f"packaged {path.name}: {len(data) / 1e6:.1f} MB")
    return locations


def template_body(template, code_uris):
    """The template as it is, but for each function's CodeUri pointing at its uploaded zip."""
    lines = template.read_text().splitlines()
    current, out = None, []
    for line in lines:
        stripped = line.strip()
        if line.startswith("  ") and not line.startswith("   ") and stripped.endswith(":"):
            current = stripped[:-1]
        if stripped.startswith("CodeUri: ") and current in code_uris:
            line = line.replace(stripped, f"CodeUri: {code_uris[current]}")
            del code_uris[current]
        out.append(line)
    if code_uris:
        sys.exit(f"{template.name} has no CodeUri for {sorted(code_uris)}")
    return "\n".join(out) + "\n"


def wait_for(cfn, name, final_states):
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(1)
    if status not in final_states:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        for event in events[:15]:
            if "FAILED" in event["ResourceStatus"]:
                log(f"  {event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}")
        sys.exit(f"stack {name} ended in {status}")
    return stack


def deploy(stack):
    aws_env()
    start_issuer()
    if FAULT_PROXY_PORT:
        if reachable() and not answers(f"http://127.0.0.1:{FAULT_PROXY_PORT}/_faults"):
            sys.exit("a local AWS without the fault proxy is running: `make local-down` first")
        start_fault_proxy()
    start_emulator()
    cfn = client("cloudformation")
    s3 = client("s3")
    status = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}.get(stack.name)
    if status == "ROLLBACK_COMPLETE":  # a failed first deploy can only be deleted (the emulator does so at once)
        cfn.delete_stack(StackName=stack.name)
        status = None
    if stack.code is None:
        sam_deploy(s3, stack)
        deployed = cfn.describe_stacks(StackName=stack.name)["Stacks"][0]
    else:
        deployed = create_or_update(cfn, s3, stack, exists=status is not None)
    write_outputs(stack, deployed)


def sam_deploy(s3, stack):
    """What a deploy to AWS runs, `sam deploy` of `sam build`'s output, with samconfig.toml's `local` environment.
    SAM CLI calls AWS through boto3, so the SDK's AWS_ENDPOINT_URL (set by aws_env) sends it to the emulator."""
    if not stack.template.exists():
        sys.exit(f"{stack.template.relative_to(ROOT)} is missing: build it first (make build runs sam build)")
    ensure_bucket(s3)  # samconfig names it; on AWS `resolve_s3` has SAM create one
    parameters = [f"{key}={value}" for key, value in stack.parameters.items()]
    # The config file named: beside an explicit --template-file, SAM CLI would look for one in .aws-sam/build.
    command = [str(SAM) if SAM.exists() else "sam", "deploy", "--config-file", str(SAMCONFIG), "--config-env", "local",
               "--template-file", str(stack.template), "--stack-name", stack.name,
               "--parameter-overrides", *parameters]
    log(f"sam deploy --config-env local ({stack.template.relative_to(ROOT)}) to {endpoint()}")
    if subprocess.run(command, cwd=ROOT, env={**os.environ, "SAM_CLI_TELEMETRY": "0"}).returncode != 0:
        sys.exit(f"sam deploy of stack {stack.name} failed")


def create_or_update(cfn, s3, stack, exists):
    body = template_body(stack.template, package(s3, stack)).encode()
    # Over CloudFormation's 51,200-byte TemplateBody limit: uploaded and named by URL, as `sam deploy` does on AWS.
    key = f"template/{hashlib.sha256(body).hexdigest()}.yaml"
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=body)
    name = stack.name
    arguments = dict(
        StackName=name,
        TemplateURL=f"{endpoint()}/{ARTIFACT_BUCKET}/{key}",
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in stack.parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    if not exists:
        log(f"creating stack {name}")
        cfn.create_stack(**arguments)
        return wait_for(cfn, name, {"CREATE_COMPLETE"})
    log(f"updating stack {name}")
    try:
        cfn.update_stack(**arguments)
    except cfn.exceptions.ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise
        log("no changes")
    deployed = wait_for(cfn, name, {"UPDATE_COMPLETE", "CREATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
    if deployed["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE":
        sys.exit("update rolled back")
    return deployed


def write_outputs(stack, deployed):
    outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed.get("Outputs", [])}
    # The deployed URL names an AWS host; from this machine the emulator serves the same API under its own path.
    outputs["ApiUrl"] = f"{endpoint()}/_aws/execute-api/{outputs['ApiId']}/$default"
    outputs["Endpoint"] = endpoint()
    if "JwtIssuer" in stack.parameters:
        outputs["TokenEndpoint"] = f"{ISSUER}/token"
    if FAULT_PROXY_PORT:
        outputs["FaultProxy"] = f"http://127.0.0.1:{FAULT_PROXY_PORT}/_faults"
    STATE.mkdir(exist_ok=True)
    stack.outputs.write_text(json.dumps(outputs, indent=2) + "\n")
    log(f"stack {stack.name} is {deployed['StackStatus']}; outputs in {stack.outputs.relative_to(ROOT)}")
    print(json.dumps(outputs, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "running"],
                        help="running: exit 0 when a deployed local stack answers, else say how to start one")
    parser.add_argument("--stack", choices=sorted(STACKS), default="intake", help="which stack `up` deploys")
    arguments = parser.parse_args()
    command = arguments.command
    if command == "up":
        deploy(STACKS[arguments.stack])
    elif command == "down":
        stop_all()
    elif command == "running":
        if not (reachable() and OUTPUTS_FILE.exists()):
            sys.exit(f"No local stack answers at {endpoint()}: start it with `make local-up`")
    else:
        print(OUTPUTS_FILE.read_text() if OUTPUTS_FILE.exists() else "no local stack deployed")


if __name__ == "__main__":
    main()
