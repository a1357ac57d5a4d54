// The admin modeler's bundle (built by `npm run assets` into
// webapp/static/vendor/hotline-modeler/modeler.js, see scripts/copy-assets.mjs): bpmn-js's
// Modeler with the properties panel (bpmn-js-properties-panel, @bpmn-io/properties-panel), the
// hotline's own groups (provider.js), the spiffworkflow extension elements the engine reads
// (spiffworkflow.json) and the modeler's words in the page's language (translate.js).
// webapp/static/admin/modeler.js creates it through window.HotlineModeler.create().

import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import HotlinePropertiesProvider from './provider.js';
import spiffworkflow from './spiffworkflow.json';
import { translateModule } from './translate.js';

const HotlineProviderModule = {
  __init__: ['hotlinePropertiesProvider'],
  hotlinePropertiesProvider: ['type', HotlinePropertiesProvider],
};

// ``hotline``: {catalog, checkUrl, csrf}, kept by reference: the page fills the catalogue in
// when it arrives and fires propertiesPanel.providersChanged
function create({ container, propertiesParent, lang, hotline }) {
  return new Modeler({
    container,
    propertiesPanel: { parent: propertiesParent },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      HotlineProviderModule,
      translateModule(lang),
    ],
    moddleExtensions: { spiffworkflow },
    hotline,
  });
}

window.HotlineModeler = { create };
