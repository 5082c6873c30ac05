"""The approvals page in a real headless Chromium, driven over WebDriver (selenium).

usage: browser.py BINARY POLICY STATE_DIR SCREENSHOT_DIR

Starts truenas-mcp in HTTP mode with an agent token and an admin token (against TRUENAS_URL
from the environment, or --demo without it), makes an agent call that needs approval (the
Python `mcp` client over streamable HTTP), logs into /approvals in Chromium (first with the
agent's token, which is refused), clicks Approve, retries the call, and prints one JSON object
saying what it saw. Screenshots go to SCREENSHOT_DIR.
"""
import asyncio
import json
import logging
import os
import subprocess
import sys
import threading

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

AGENT = "agent-token-browser-0123456789"
ADMIN = "admin-token-browser-0123456789"
CALL = {"category": "vm", "action": "vm_delete", "params": {"id": 1, "confirm": True}}


def start_server(binary, policy, state_dir):
    args = [binary, "--http", "127.0.0.1:0", "--http-token", AGENT, "--admin-token", ADMIN,
            "--policy", policy, "--state-dir", state_dir]
    if not os.environ.get("TRUENAS_URL"):
        args.append("--demo")
    server = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in server.stderr:
        if "serving MCP at " in line:
            url = line.split("serving MCP at ", 1)[1].strip()
            break
    else:
        raise SystemExit("the server stopped before serving: " + str(server.wait()))
    # Keep draining its log so it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    return server, url


async def agent_call(url):
    """One tool call as the agent; returns (is_error, text)."""
    headers = {"Authorization": f"Bearer {AGENT}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                r = await session.call_tool("truenas", CALL)
                return bool(r.is_error), "".join(c.text for c in r.content if c.type == "text")


def approval_id(text):
    prefix = "[APPROVAL REQUIRED] vm_delete needs approval "
    if not text.startswith(prefix):
        raise SystemExit("expected an approval request, got: " + text)
    return text[len(prefix):].split(" ", 1)[0]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1200,1400", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


def log_in(driver, wait, page, token):
    driver.get(page)
    field = wait.until(EC.presence_of_element_located((By.ID, "token")))
    field.clear()
    field.send_keys(token)
    driver.find_element(By.ID, "login").click()


def main():
    # The SDK warns when a session's DELETE is answered 202 rather than 200: noise here.
    logging.getLogger("mcp").setLevel(logging.ERROR)
    binary, policy, state_dir, shots = sys.argv[1:5]
    seen = {}
    server, url = start_server(binary, policy, state_dir)
    driver = None
    try:
        page = url.replace("/mcp", "/approvals")
        error, text = asyncio.run(agent_call(url))
        seen["first"] = {"error": error, "text": text}
        ident = approval_id(text)
        seen["id"] = ident

        driver = browser()
        wait = WebDriverWait(driver, 15)
        # The agent's token does not open the page.
        log_in(driver, wait, page, AGENT)
        flash = wait.until(EC.presence_of_element_located((By.ID, "flash")))
        seen["agent_login"] = flash.text
        seen["agent_login_has_pending"] = bool(driver.find_elements(By.ID, f"approval-{ident}"))
        # The admin's does; the pending call shows what it would send.
        log_in(driver, wait, page, ADMIN)
        card = wait.until(EC.presence_of_element_located((By.ID, f"approval-{ident}")))
        seen["card"] = card.text
        seen["cookie_http_only"] = all(c.get("httpOnly") for c in driver.get_cookies())
        seen["cookie_visible_to_script"] = driver.execute_script("return document.cookie")
        driver.save_screenshot(os.path.join(shots, "approvals-pending.png"))
        driver.find_element(By.ID, f"approve-{ident}").click()
        flash = wait.until(EC.presence_of_element_located((By.ID, "flash")))
        seen["flash"] = flash.text
        seen["recent"] = driver.find_element(By.ID, "recent").text

        error, text = asyncio.run(agent_call(url))
        seen["retry"] = {"error": error, "text": text[:400]}
        error, text = asyncio.run(agent_call(url))
        seen["again"] = {"error": error, "text": text}
        driver.refresh()
        wait.until(EC.presence_of_element_located((By.ID, "recent")))
        seen["recent_after"] = driver.find_element(By.ID, "recent").text
        driver.save_screenshot(os.path.join(shots, "approvals-answered.png"))
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(seen))


main()
