// The BFF page's script: one same-origin fetch, with the session's CSRF token in a header.
const config = JSON.parse(document.getElementById("bff-config").textContent);
const load = document.getElementById("load");
if (load) {
  load.addEventListener("click", async () => {
    const answer = await fetch("/bff/api/photos", {
      credentials: "same-origin",
      headers: { "X-CSRF": config.csrf },
    });
    const body = await answer.json();
    document.getElementById("status").textContent = `GET /bff/api/photos: ${answer.status}`;
    const list = document.getElementById("photos");
    list.replaceChildren();
    for (const photo of body.photos || []) {
      const item = document.createElement("li");
      item.textContent = photo.title || JSON.stringify(photo);
      list.append(item);
    }
  });
}
