"""The commands that serve several people, and their accounts: users, mcp, serve, tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .wiring import chat_service, config_from, deploy_engine, edit_service, require_extra, say


def cmd_users(args) -> int:
    accounts = edit_service(config_from(args)).accounts
    if args.users_command == "add":
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            import getpass

            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                raise ValueError("the two passwords differ; nothing was stored")
        name = accounts.add_user(args.name, password)
        print(f"added user {name}")
    elif args.users_command == "list":
        users = accounts.users()
        if not users:
            print("no users (servers on 127.0.0.1 then serve one local owner; other addresses refuse to start)")
        for u in users:
            print(f"{u.name:24s} {u.created_at[:19]}  {u.tokens} token(s)  {u.sessions} session(s)")
    elif args.users_command == "remove":
        gone = accounts.remove_user(args.name, delete_sessions=args.delete_sessions)
        print(f"removed user {args.name}" + (f" and {gone} session(s)" if gone else ""))
    elif args.revoke:
        print(f"revoked {accounts.revoke_tokens(args.name)} token(s) of {args.name}")
    else:
        print(accounts.new_token(args.name, args.label))
    return 0


def cmd_mcp(args) -> int:
    require_extra("mcp", "mcp", "serve")
    from ..interfaces.access import check_exposure
    from ..interfaces.mcp_server import ConnectionSessions, build_server, request_body_limit

    service = edit_service(config_from(args))
    http = args.transport == "http"
    users = http and service.accounts.any_users()
    warning = check_exposure(args.host, users=users, no_auth=args.no_auth, command="mcp") if http else None
    deploy_engine(args, service)
    sessions = ConnectionSessions(
        service,
        owner=args.owner,
        authenticated=users,
        allowed_dirs=[Path(d) for d in (args.allow_dir or ["."])],
        export_dir=Path(args.export_dir) if args.export_dir else None,
    )
    if not http:
        build_server(sessions).run("stdio")
        return 0
    url = f"http://{args.host}:{args.port}"
    auth = None
    if users:
        from mcp.server.auth.settings import AuthSettings
        from pydantic import AnyHttpUrl

        auth = AuthSettings(issuer_url=AnyHttpUrl(url), resource_server_url=AnyHttpUrl(f"{url}/mcp"), validate_token_resource=False)
    if warning:
        say(warning)
    say(f"chatface MCP server on {url}/mcp" + (" (bearer tokens of chatface users)" if users else f" (owner {args.owner}, no login)"))
    build_server(sessions, auth=auth).run(
        "streamable-http", host=args.host, port=args.port, max_request_body_size=request_body_limit(service.max_upload_bytes)
    )
    return 0


def cmd_serve(args) -> int:
    require_extra("serve", "gradio", "serve")
    import threading

    from ..interfaces.access import check_exposure
    from ..interfaces.web_app import WebBackend, build_app, launch

    config = config_from(args)
    chats = chat_service(config)
    users = chats.service.accounts.any_users()
    warning = check_exposure(args.host, users=users or bool(args.trusted_header), no_auth=args.no_auth, command="serve")
    deploy_engine(args, chats.service)
    backend = WebBackend(chats, owner=args.owner, authenticated=users, trusted_header=args.trusted_header)
    app = build_app(backend)
    # the engine and the planner load while the page is already up: the first request does not wait for them
    threading.Thread(target=chats.warm, name="chatface-warm-up", daemon=True).start()
    if warning:
        say(warning)
    who = (
        f"users from the {args.trusted_header} header"
        if args.trusted_header
        else "login with chatface users"
        if users
        else f"owner {args.owner}, no login"
    )
    say(f"chatface web app on http://{args.host}:{args.port} ({config.engine} engine, {config.planner} planner; {who})")
    launch(app, backend, args.host, args.port)
    return 0


def cmd_tools(args) -> int:
    from ..interfaces.langchain_toolkit import tool_schemas

    print(json.dumps(tool_schemas(args.format, args.engine), indent=2))
    return 0


def cmd_engines(args) -> int:
    """Every engine: whether it can run here, what it needs, and what it edits (people's words and ids)."""
    from ..tools.capabilities import engines_report

    report = engines_report(args.models)
    if args.json:
        print(json.dumps({"engines": report}, indent=2))
        return 0
    for e in report:
        state = "ready" if e["available"] else f"not installed (missing {', '.join(e['missing'])})"
        print(f"{e['name']}: {e['title']}. {state}.")
        for need in e["needs"]:
            print(f"  needs: {need}")
        edits = ", ".join(a["label"] for a in e["attributes"])
        print(f"  edits: {edits}" + (', and free text ("a pirate hat")' if e["free_text"] else ""))
    return 0
