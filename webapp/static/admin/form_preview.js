// A stored form version drawn by form-js's viewer, read-only, as a preview of what the task
// page asks (the task pages themselves render forms on the server).
(function () {
  "use strict";
  const root = document.getElementById("form-preview");
  if (!root || !window.FormViewer) return;
  fetch(root.dataset.schemaUrl, { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then((schema) => window.FormViewer.createForm({ container: root, schema, properties: { readOnly: true } }))
    .then(() => {
      root.dataset.ready = "true";
    })
    .catch(() => {
      root.textContent = root.dataset.error;
    });
})();
