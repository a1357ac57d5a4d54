// Draws each .bpmn-viewer element's diagram (fetched from data-xml-url) with bpmn-js, and
// marks the elements listed in data-markers ({"element id": "css class"}).
(function () {
  "use strict";
  if (typeof BpmnJS === "undefined") return;
  document.querySelectorAll(".bpmn-viewer[data-xml-url]").forEach(async (container) => {
    const viewer = new BpmnJS({ container });
    try {
      const response = await fetch(container.dataset.xmlUrl, { headers: { Accept: "application/xml" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await viewer.importXML(await response.text());
      const canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport");
      const registry = viewer.get("elementRegistry");
      const markers = JSON.parse(container.dataset.markers || "{}");
      for (const [id, marker] of Object.entries(markers)) {
        if (registry.get(id)) canvas.addMarker(id, marker);
      }
    } catch (err) {
      const p = document.createElement("p");
      p.className = "error-message";
      p.textContent = container.dataset.error ? `${container.dataset.error} (${err.message})` : err.message;
      container.replaceChildren(p);
    }
  });
})();
