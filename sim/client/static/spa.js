// Photo Viewer: a public client (demo-spa) doing the authorization code flow with PKCE
// entirely in the browser (RFC 7636, RFC 9700 §2.1.1). No secret: the code_verifier,
// made here with Web Crypto, is what proves this page started the login.
"use strict";

const cfg = document.getElementById("app").dataset;
const PENDING = "oauth-sim-spa-pending"; // sessionStorage key, only while away at the AS
let tokens = null; // the tokens live here, in memory, never in localStorage (XSS)

const $ = (id) => document.getElementById(id);

function b64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(size) {
  return b64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

function step(term, detail) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = detail;
  $("steps").append(dt, dd);
}

function fail(text) {
  $("error").textContent = text;
  $("error").hidden = false;
  $("status").textContent = "";
}

async function login() {
  const verifier = randomString(32); // 43 characters, RFC 7636 §4.1
  const challenge = await s256(verifier);
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(cfg.issuer + "/authorize");
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: cfg.redirectUri,
    scope: cfg.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(url.toString());
}

async function callback() {
  const params = new URLSearchParams(location.search);
  // Clean the code out of the address bar and history at once.
  history.replaceState(null, "", "/spa");
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  // Check first, then act (RFC 9207 §2.4: "For error responses, clients MUST NOT assume that
  // the error originates from the intended authorization server"): state, then iss, and
  // only then is an error, or a code, believed.
  if (!pending || params.get("state") !== pending.state) {
    return fail("Login refused: state does not match the login this page started (CSRF).");
  }
  if (params.get("iss") !== cfg.issuer) {
    return fail(`Login refused: unexpected issuer ${params.get("iss")} (mix-up defence).`);
  }
  if (params.get("error")) {
    const why = params.get("error_description") || "";
    return fail(`The authorization server answered ${params.get("error")}. ${why}`);
  }
  const challenge = await s256(pending.verifier);
  step("code_verifier (made here, kept in the page)", pending.verifier);
  step("code_challenge = BASE64URL(SHA256(verifier)), sent on the front channel", challenge);
  step("code (arrived in the callback URL, now removed from it)", params.get("code"));
  $("status").textContent = "Redeeming the code at the token endpoint, from this page…";
  const response = await fetch(cfg.issuer + "/token", {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: cfg.redirectUri,
      client_id: cfg.clientId,
      code_verifier: pending.verifier, // the only place the verifier ever travels
    }),
  });
  const body = await response.json();
  if (!response.ok) return fail(`Token request refused: ${body.error} ${body.error_description || ""}`);
  tokens = body;
  step("token request", "POST /token with code + code_verifier + client_id; no client_secret");
  await show();
}

async function api(path) {
  const response = await fetch(cfg.api + path, {
    headers: { Authorization: "Bearer " + tokens.access_token },
  });
  let body = {};
  try {
    body = await response.json();
  } catch (_) {
    // an empty or non-JSON answer: keep {}
  }
  return { status: response.status, body };
}

async function show() {
  const profile = await api("/api/profile");
  const photos = await api("/api/photos");
  $("start").hidden = true;
  $("signed-in").hidden = false;
  $("status").textContent = "";
  $("hello").textContent = profile.status === 200 ? `Hello, ${profile.body.name}` : "Hello";
  $("scope").textContent = tokens.scope || "";
  $("expires").textContent = String(tokens.expires_in);
  $("photos").replaceChildren();
  if (photos.status === 200) {
    for (const photo of photos.body.photos) {
      const li = document.createElement("li");
      li.textContent = photo.title;
      $("photos").append(li);
    }
  } else {
    const li = document.createElement("li");
    li.className = "error";
    li.textContent = `The photo API answered ${photos.status} ${photos.body.error || ""}`;
    $("photos").append(li);
  }
}

async function refresh() {
  const response = await fetch(cfg.issuer + "/token", {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: cfg.clientId,
    }),
  });
  const body = await response.json();
  if (!response.ok) {
    tokens = null;
    return fail(`Refresh refused: ${body.error}. Log in again.`);
  }
  step("refresh", "new access token and a new refresh token (rotation); the old one is spent");
  tokens = body;
  await show();
}

async function logout() {
  await fetch(cfg.issuer + "/revoke", {
    method: "POST",
    body: new URLSearchParams({
      token: tokens.refresh_token || tokens.access_token,
      client_id: cfg.clientId,
    }),
  });
  tokens = null; // forget them: nothing else to clear, nothing was ever stored
  location.assign("/spa");
}

$("login").addEventListener("click", () => login().catch((e) => fail(String(e))));
$("refresh").addEventListener("click", () => refresh().catch((e) => fail(String(e))));
$("logout").addEventListener("click", () => logout().catch((e) => fail(String(e))));
if (location.pathname === "/spa/callback") callback().catch((e) => fail(String(e)));
