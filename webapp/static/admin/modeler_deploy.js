// The modeler's deploy dialog: before anything is stored it compares the edited diagram with
// the latest deployed version on the server (the same semantic comparison deploy makes), shows
// what changed element by element, and asks why (the comment stored with the version).
// modeler.js's deploy button calls window.hotlineModeler.askDeployComment(): the comment, or
// null when there is nothing to deploy or the designer cancelled. Texts come from the page.
(function () {
  "use strict";
  const dialog = document.getElementById("deploy-dialog");
  const shared = window.hotlineModeler;
  if (!dialog || !shared) return;
  const { root, say, msg, csrf } = shared;
  const preview = document.getElementById("deploy-preview");
  const comment = document.getElementById("deploy-comment");
  const commentField = document.getElementById("deploy-comment-field");
  const confirm = document.getElementById("deploy-confirm");
  const label = (name) => dialog.dataset["msg" + name] || name;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function code(text) {
    return el("code", text === null || text === undefined ? "—" : String(text));
  }

  function row(kind, element) {
    const tr = el("tr", null, kind);
    tr.append(el("td", label(kind[0].toUpperCase() + kind.slice(1)), "diff-" + kind));
    const id = el("td");
    id.append(code(element.element_id));
    const type = el("td");
    type.append(code(element.kind));
    const what = el("td");
    if (element.changes.length) {
      const dl = el("dl", null, "fields");
      for (const [facet, before, after] of element.changes) {
        const dt = el("dt");
        dt.append(code(facet));
        const dd = el("dd");
        const del = el("del");
        del.append(code(before));
        const ins = el("ins");
        ins.append(code(after));
        dd.append(del, " → ", ins);
        dl.append(dt, dd);
      }
      what.append(dl);
    }
    tr.append(id, type, el("td", element.name), what);
    return tr;
  }

  function showProcess(process) {
    const section = el("section", null, "deploy-process");
    section.dataset.key = process.key;
    section.dataset.unchanged = String(process.unchanged);
    section.append(el("p", process.message, process.unchanged ? "muted" : ""));
    const latest = process.latest;
    if (latest) {
      const line = el("p", null, "muted");
      const link = el("a", `v${latest.version}`);
      link.href = latest.url;
      link.target = "_blank";
      const said = latest.comment ? ` · ${latest.comment}` : "";
      line.append(`${label("Latest")}: `, link, ` · ${latest.deployed_by} · ${latest.deployed_at}${said}`);
      section.append(line);
    }
    const rows = [
      ...process.added.map((e) => row("added", e)),
      ...process.removed.map((e) => row("removed", e)),
      ...process.changed.map((e) => row("changed", e)),
    ];
    if (rows.length) {
      const table = el("table", null, "diff");
      const body = el("tbody");
      body.append(...rows);
      table.append(body);
      section.append(table);
    } else if (latest && !process.unchanged) {
      section.append(el("p", label("NoElement"), "muted"));
    }
    return section;
  }

  async function fetchPreview() {
    const xml = await shared.currentXml();
    const response = await fetch(root.dataset.previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ xml, file_name: root.dataset.fileName }),
    });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!body) throw new Error(msg("Failed") + ` (HTTP ${response.status})`);
    return body;
  }

  function answer() {
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => resolve(dialog.returnValue === "deploy" ? comment.value.trim() : null),
        { once: true }
      );
    });
  }

  shared.askDeployComment = async function () {
    say(msg("Previewing"), false);
    const body = await fetchPreview();
    shared.showIssues(body.issues || []);
    if (!body.ok) {
      say(body.message || msg("Invalid"), true);
      return null;
    }
    say("", false);
    const processes = body.processes || [];
    const nothing = processes.every((p) => p.unchanged);
    preview.replaceChildren(...processes.map(showProcess));
    commentField.hidden = nothing;
    comment.required = !nothing;
    confirm.hidden = nothing;
    dialog.returnValue = "";
    const answered = answer();
    dialog.showModal();
    (nothing ? document.getElementById("deploy-cancel") : comment).focus();
    const given = await answered;
    if (given !== null) comment.value = "";
    return given;
  };
})();
