// Photo Viewer: a public client (demo-spa) doing the authorization code flow with PKCE
// entirely in the browser (RFC 7636, RFC 9700 §2.1.1). No secret: the code_verifier,
// made here with Web Crypto, is what proves this page started the login.
//
// With "DPoP" ticked (or /spa?dpop=1) the tokens are also sender-constrained (RFC 9449):
// the page makes a P-256 key pair with Web Crypto, NON-extractable, and signs a DPoP proof
// (a small ES256 JWT) for the token request, each refresh and each API call. The server
// binds the tokens to the key's thumbprint, so a copy of them is useless without the key,
// and no script can read the key out (RFC 9449 §11.4). No JOSE library: Web Crypto signs,
// and its ECDSA signature is already the raw r||s that JWS wants (RFC 7518 §3.4).
"use strict";

const cfg = document.getElementById("app").dataset;
const PENDING = "oauth-sim-spa-pending"; // sessionStorage key, only while away at the AS
let tokens = null; // the tokens live here, in memory, never in localStorage (XSS)
// The DPoP key, in memory too: { keyPair, jwk, jkt }. Not in IndexedDB (which can hold a
// non-extractable CryptoKey across reloads): the tokens it guards die with the page, so a
// key that outlived them would only give an injected script longer to sign with it.
let dpop = null;

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

const b64json = (value) => b64url(new TextEncoder().encode(JSON.stringify(value)));

async function makeDpopKey() {
  // extractable = false: exportKey on the private key rejects; the page can only sign.
  const keyPair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  // A public key is always exportable: it goes into every proof's header (RFC 9449 §4.2).
  const full = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  const jwk = { kty: full.kty, crv: full.crv, x: full.x, y: full.y };
  // Its RFC 7638 thumbprint, what the server writes into the token as cnf.jkt (§6.1):
  // SHA-256 of the required members in lexicographic order, no whitespace.
  const jkt = await s256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
  return { keyPair, jwk, jkt };
}

async function dpopProof(method, url, accessToken) {
  // RFC 9449 §4.2: typ, alg and the public jwk in the header; jti, htm, htu (no query or
  // fragment), iat in the claims, and at the API ath = hash of the access token.
  const target = new URL(url);
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: dpop.jwk };
  const claims = {
    jti: randomString(16),
    htm: method,
    htu: target.origin + target.pathname,
    iat: Math.floor(Date.now() / 1000),
  };
  if (accessToken) claims.ath = await s256(accessToken);
  const input = `${b64json(header)}.${b64json(claims)}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    dpop.keyPair.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

const isDpop = (token) => String(token.token_type).toLowerCase() === "dpop";

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
  const useDpop = $("use-dpop").checked; // remembered across the trip to the AS
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, dpop: useDpop }));
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
  const headers = {};
  if (pending.dpop) {
    dpop = await makeDpopKey();
    step("DPoP key pair (Web Crypto P-256, non-extractable); its thumbprint", dpop.jkt);
    headers.DPoP = await dpopProof("POST", cfg.issuer + "/token");
  }
  const response = await fetch(cfg.issuer + "/token", {
    method: "POST",
    headers,
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
  if (pending.dpop) {
    step("token_type", isDpop(tokens) ? "DPoP: bound to this page's key" : tokens.token_type);
  }
  await show();
}

async function api(path) {
  const url = cfg.api + path;
  const token = tokens.access_token;
  // A DPoP-bound token goes with the DPoP scheme and a fresh proof naming this request and
  // the token's hash (RFC 9449 §7.1); a token the server did not bind stays a Bearer token.
  const headers = isDpop(tokens)
    ? { Authorization: "DPoP " + token, DPoP: await dpopProof("GET", url, token) }
    : { Authorization: "Bearer " + token };
  const response = await fetch(url, { headers });
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
  $("token-type").textContent = tokens.token_type || "";
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
  // A public client's refresh token is bound to the key too: refresh with a proof (§5).
  const headers = dpop ? { DPoP: await dpopProof("POST", cfg.issuer + "/token") } : {};
  const response = await fetch(cfg.issuer + "/token", {
    method: "POST",
    headers,
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
  const how = dpop ? ", asked for with a DPoP proof by the same key" : "";
  step("refresh", `new access token and a new refresh token (rotation)${how}; the old one is spent`);
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
  dpop = null; // and the key with them
  location.assign("/spa");
}

$("login").addEventListener("click", () => login().catch((e) => fail(String(e))));
$("refresh").addEventListener("click", () => refresh().catch((e) => fail(String(e))));
$("logout").addEventListener("click", () => logout().catch((e) => fail(String(e))));
if (new URLSearchParams(location.search).get("dpop") === "1") $("use-dpop").checked = true;
if (location.pathname === "/spa/callback") callback().catch((e) => fail(String(e)));
