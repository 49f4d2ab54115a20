// qunyun console: the few things a server-rendered page cannot do alone.
// No framework, no CDN; loaded with `defer` from /static (the CSP allows only that).
"use strict";

// Live import progress: poll the job until it ends, then show its result.
function followJob(el) {
  const id = el.getAttribute("data-job");
  const fill = el.querySelector(".fill");
  const text = el.querySelector("[data-progress-text]");
  const tick = async () => {
    try {
      const r = await fetch(`/api/v1/imports/${id}`, { credentials: "same-origin" });
      if (!r.ok) return setTimeout(tick, 2000);
      const job = await r.json();
      if (job.status === "done" || job.status === "failed") return location.reload();
      const f = job.progress && job.progress.file;
      if (f) {
        if (f.size) fill.style.width = `${Math.max(3, (100 * f.position) / f.size).toFixed(1)}%`;
        text.textContent = `${f.name} · ${f.read.toLocaleString()}`;
      }
    } catch (e) { /* the server restarted: keep trying */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 700);
}

// Parts of a page that load after it (keywords take longer than the charts).
async function loadFragment(el) {
  try {
    const r = await fetch(el.getAttribute("data-fragment"), { credentials: "same-origin" });
    if (r.ok) el.innerHTML = await r.text();
  } catch (e) { /* leave the placeholder */ }
}

// On a phone the section tabs are one row that scrolls sideways: show the current one.
function showCurrentTab() {
  const nav = document.querySelector(".side nav");
  const on = nav && nav.querySelector("a.on");
  if (!nav) return;
  if (on && nav.scrollWidth > nav.clientWidth) {
    const a = on.getBoundingClientRect(), n = nav.getBoundingClientRect();
    nav.scrollLeft += a.left - n.left - (n.width - a.width) / 2;
  }
  // a fade at the right edge while there are more tabs that way
  const fade = () => nav.classList.toggle("more", nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 2);
  nav.addEventListener("scroll", fade, { passive: true });
  window.addEventListener("resize", fade);
  fade();
}

document.addEventListener("DOMContentLoaded", () => {
  showCurrentTab();
  document.querySelectorAll("[data-job]").forEach(followJob);
  document.querySelectorAll("[data-fragment]").forEach(loadFragment);
});
