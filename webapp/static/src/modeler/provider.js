// The properties panel's hotline groups: every property the engine reads, set with the
// choices the server lists (GET /admin/modeler/catalog.json) and checked live by the checker
// deploy uses (POST /admin/modeler/check). What is written here is what the engine reads:
// <spiffworkflow:properties><spiffworkflow:property name=".." value=".."/> (formKey, step,
// status, candidateGroups, effect, clock, outcome), bpmn:timerEventDefinition's timeDate /
// timeDuration / timeCycle, a sequence flow's bpmn:conditionExpression, a script task's
// bpmn:script, a service task's spiffworkflow:serviceTaskOperator (docs/modeler.md).

import { createElement as h } from '@bpmn-io/properties-panel/preact';
import { useEffect, useState } from '@bpmn-io/properties-panel/preact/hooks';
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const LOW_PRIORITY = 400;
const TIMER_KINDS = ['timeDate', 'timeDuration', 'timeCycle'];

// -- reading and writing the extension properties ----------------------------------------------

function propertiesOf(bo) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').find((v) => v.$instanceOf('spiffworkflow:Properties')) : null;
}

export function getProperty(element, name) {
  const props = propertiesOf(getBusinessObject(element));
  const found = props && props.get('properties').find((p) => p.name === name);
  return found ? found.value || '' : '';
}

export function setProperty(element, name, value, modeling, moddle) {
  const bo = getBusinessObject(element);
  let ext = bo.get('extensionElements');
  if (!ext) {
    if (!value) return;
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  let props = ext.get('values').find((v) => v.$instanceOf('spiffworkflow:Properties'));
  if (!props) {
    if (!value) return;
    props = moddle.create('spiffworkflow:Properties', { properties: [] });
    props.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), props] });
  }
  const list = props.get('properties');
  const existing = list.find((p) => p.name === name);
  if (!value) {
    if (existing) {
      modeling.updateModdleProperties(element, props, {
        properties: list.filter((p) => p !== existing),
      });
    }
    return;
  }
  if (existing) {
    modeling.updateModdleProperties(element, existing, { value });
  } else {
    const property = moddle.create('spiffworkflow:Property', { name, value });
    property.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, property] });
  }
}

// -- the server: catalogue and checks ----------------------------------------------------------

function options(list, current, translate, blank = true) {
  const out = blank ? [{ value: '', label: translate('(none)') }] : [];
  out.push(...list);
  if (current && !list.some((o) => o.value === current)) {
    out.push({ value: current, label: `${current} ${translate('(other value)')}` });
  }
  return out;
}

function useCheck(config, kind, text) {
  const translate = useService('translate');
  const [state, setState] = useState({ text: null, message: '' });
  useEffect(() => {
    if (!text || !text.trim()) {
      setState({ text, message: '' });
      return undefined;
    }
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const response = await fetch(config.checkUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf },
          body: JSON.stringify({ kind, text }),
        });
        const body = await response.json();
        if (!cancelled) setState({ text, message: body.ok ? '' : body.message, ok: body.ok });
      } catch (err) {
        if (!cancelled) setState({ text, message: '' });
      }
    }, 300);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [kind, text]);
  const pending = text && text.trim() && state.text !== text;
  return { pending, message: state.text === text ? state.message : '', ok: state.ok, translate };
}

function CheckedText(props) {
  const { element, id, label, description, kind, getValue, setValue, config, rows } = props;
  const debounce = useService('debounceInput');
  const [text, setText] = useState(getValue() || '');
  useEffect(() => setText(getValue() || ''), [element, getValue()]);
  const check = useCheck(config, kind, text);
  const entry = h(TextAreaEntry, {
    element,
    id,
    label,
    description,
    rows: rows || 3,
    monospace: true,
    getValue,
    setValue: (value) => {
      setValue(value);
      setText(value || '');
    },
    debounce,
  });
  let note = null;
  if (check.message) {
    note = h('div', { class: 'hotline-check-error', role: 'alert', 'data-check': kind }, check.message);
  } else if (check.pending) {
    note = h('div', { class: 'hotline-check-pending' }, check.translate('Checking…'));
  } else if (text && check.ok) {
    note = h('div', { class: 'hotline-check-ok', 'data-check': kind }, check.translate('Checked: no problem.'));
  }
  return h('div', { class: 'hotline-checked' }, entry, note);
}

// -- entries -----------------------------------------------------------------------------------

// entries carry their own props (the panel spreads an entry into its component's props):
// the components stay the same functions from render to render, so a field keeps its focus
function PropertySelect(props) {
  const { element, id, label, name, list, description } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  return h(SelectEntry, {
    element,
    id,
    label: translate(label),
    description,
    getValue: () => getProperty(element, name),
    setValue: (value) => setProperty(element, name, value, modeling, moddle),
    getOptions: () => options(list, getProperty(element, name), translate),
  });
}

function propertyEntry(element, config, name, label, list) {
  return {
    id: `hotline-${name}`,
    element,
    name,
    label,
    list,
    component: PropertySelect,
    isEdited: isSelectEntryEdited,
  };
}

function CandidateGroups(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const getValue = () => getProperty(element, 'candidateGroups');
  return h(
    'div',
    {},
    h(SelectEntry, {
      element,
      id,
      label: translate('Who may do it (candidate group)'),
      description: translate(
        'Evaluated on the case data: a department variable or a quoted department code.'
      ),
      getValue,
      setValue: (value) => setProperty(element, 'candidateGroups', value, modeling, moddle),
      getOptions: () => options(config.catalog.groups, getValue(), translate),
    })
  );
}

function timerDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerKind(definition) {
  return TIMER_KINDS.find((k) => definition.get(k)) || 'timeDate';
}

function TimerKind(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const definition = timerDefinition(element);
  return h(SelectEntry, {
    element,
    id,
    label: translate('Timer kind'),
    getValue: () => timerKind(definition),
    setValue: (kind) => {
      const current = timerKind(definition);
      const body = definition.get(current) ? definition.get(current).body : '';
      const changes = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      changes[kind] = moddle.create('bpmn:FormalExpression', { body: body || '' });
      modeling.updateModdleProperties(element, definition, changes);
    },
    getOptions: () => [
      { value: 'timeDate', label: translate('Date (timeDate)') },
      { value: 'timeDuration', label: translate('Duration (timeDuration)') },
      { value: 'timeCycle', label: translate('Cycle (timeCycle)') },
    ],
  });
}

function setTimerValue(element, definition, kind, value, modeling, moddle) {
  const expression = value ? moddle.create('bpmn:FormalExpression', { body: value }) : undefined;
  modeling.updateModdleProperties(element, definition, { [kind]: expression });
}

function TimerValue(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const definition = timerDefinition(element);
  const kind = timerKind(definition);
  return h(CheckedText, {
    element,
    id,
    config,
    kind,
    label: translate('Expression or ISO 8601 value'),
    description: translate(
      "A date (timeDate), a duration such as P3D (timeDuration) or a cycle (timeCycle); after(policy['reply']) counts the deadline policy's limit in working time."
    ),
    getValue: () => (definition.get(kind) ? definition.get(kind).body || '' : ''),
    setValue: (value) => setTimerValue(element, definition, kind, value, modeling, moddle),
  });
}

function TimerPolicy(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const definition = timerDefinition(element);
  const read = () => {
    const kind = timerKind(definition);
    const body = definition.get(kind) ? definition.get(kind).body || '' : '';
    const match = /^after\(policy\['([a-z_]+)'\]\)$/.exec(body.trim());
    return match ? match[1] : '';
  };
  return h(SelectEntry, {
    element,
    id,
    label: translate('Deadline from the policy'),
    getValue: read,
    setValue: (field) => {
      if (!field) return;
      const changes = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      changes.timeDate = moddle.create('bpmn:FormalExpression', {
        body: `after(policy['${field}'])`,
      });
      modeling.updateModdleProperties(element, definition, changes);
    },
    getOptions: () => options(config.catalog.policy, read(), translate),
  });
}

function Condition(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const bo = getBusinessObject(element);
  return h(CheckedText, {
    element,
    id,
    config,
    kind: 'condition',
    label: translate('Condition (a Python expression on the case data)'),
    getValue: () => (bo.get('conditionExpression') ? bo.get('conditionExpression').body || '' : ''),
    setValue: (value) =>
      modeling.updateProperties(element, {
        conditionExpression: value
          ? moddle.create('bpmn:FormalExpression', { body: value })
          : undefined,
      }),
  });
}

function Script(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const translate = useService('translate');
  const bo = getBusinessObject(element);
  return h(CheckedText, {
    element,
    id,
    config,
    rows: 8,
    kind: 'script',
    label: translate('Script (Python, checked as deploy checks it)'),
    getValue: () => bo.get('script') || '',
    setValue: (value) =>
      modeling.updateProperties(element, { script: value || undefined, scriptFormat: 'python' }),
  });
}

// -- connectors of service tasks ---------------------------------------------------------------

function operatorOf(element) {
  const bo = getBusinessObject(element);
  const ext = bo.get('extensionElements');
  return ext
    ? ext.get('values').find((v) => v.$instanceOf('spiffworkflow:ServiceTaskOperator'))
    : null;
}

function setOperator(element, name, modeling, moddle) {
  const bo = getBusinessObject(element);
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = moddle.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  const current = operatorOf(element);
  const others = ext.get('values').filter((v) => v !== current);
  if (!name) {
    modeling.updateModdleProperties(element, ext, { values: others });
    return;
  }
  const list = moddle.create('spiffworkflow:Parameters', { parameters: [] });
  const operator = moddle.create('spiffworkflow:ServiceTaskOperator', {
    id: name,
    resultVariable: current ? current.resultVariable : undefined,
    parameterList: list,
  });
  list.$parent = operator;
  operator.$parent = ext;
  modeling.updateModdleProperties(element, ext, { values: [...others, operator] });
}

function ConnectorChoice(props) {
  const { element, id, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const eventBus = useService('eventBus');
  const list = config.catalog.connectors.map((c) => ({ value: c.name, label: c.label }));
  return h(SelectEntry, {
    element,
    id,
    label: translate('Connector'),
    getValue: () => (operatorOf(element) ? operatorOf(element).id : ''),
    setValue: (name) => {
      setOperator(element, name, modeling, moddle);
      // another connector has other parameters: the group's entries are made again
      eventBus.fire('propertiesPanel.providersChanged');
    },
    getOptions: () => options(list, operatorOf(element) ? operatorOf(element).id : '', translate),
  });
}

function ResultVariable(props) {
  const { element, id } = props;
  const modeling = useService('modeling');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element,
    id,
    label: translate('Result variable'),
    debounce,
    getValue: () => (operatorOf(element) ? operatorOf(element).resultVariable || '' : ''),
    setValue: (value) =>
      modeling.updateModdleProperties(element, operatorOf(element), {
        resultVariable: value || undefined,
      }),
  });
}

function ConnectorParameter(props) {
  const { element, id, param, config } = props;
  const modeling = useService('modeling');
  const moddle = useService('moddle');
  const debounce = useService('debounceInput');
  const read = () => {
    const operator = operatorOf(element);
    const list = operator && operator.parameterList;
    const found = list && list.get('parameters').find((p) => p.id === param.name);
    return found ? found.value || '' : '';
  };
  return h(TextFieldEntry, {
    element,
    id,
    label: param.label + (param.required ? ' *' : ''),
    description: param.description,
    debounce,
    getValue: read,
    setValue: (value) => {
      const operator = operatorOf(element);
      let list = operator.parameterList;
      if (!list) {
        list = moddle.create('spiffworkflow:Parameters', { parameters: [] });
        list.$parent = operator;
        modeling.updateModdleProperties(element, operator, { parameterList: list });
      }
      const params = list.get('parameters');
      const existing = params.find((p) => p.id === param.name);
      if (!value) {
        if (existing) {
          modeling.updateModdleProperties(element, list, {
            parameters: params.filter((p) => p !== existing),
          });
        }
      } else if (existing) {
        modeling.updateModdleProperties(element, existing, { value });
      } else {
        const made = moddle.create('spiffworkflow:Parameter', {
          id: param.name,
          type: 'str',
          value,
        });
        made.$parent = list;
        modeling.updateModdleProperties(element, list, { parameters: [...params, made] });
      }
    },
  });
}

// -- the provider ------------------------------------------------------------------------------

function hotlineEntries(element, config) {
  const catalog = config.catalog;
  const entries = [];
  if (is(element, 'bpmn:UserTask') || is(element, 'bpmn:StartEvent')) {
    entries.push(propertyEntry(element, config, 'formKey', 'Form', catalog.forms));
  }
  if (is(element, 'bpmn:UserTask')) {
    entries.push(propertyEntry(element, config, 'step', 'Hotline step', catalog.steps));
    entries.push(
      propertyEntry(element, config, 'status', 'Case status while it waits here', catalog.statuses)
    );
    entries.push({
      id: 'hotline-candidateGroups',
      element,
      config,
      component: CandidateGroups,
      isEdited: isSelectEntryEdited,
    });
  }
  if (is(element, 'bpmn:EndEvent')) {
    entries.push(propertyEntry(element, config, 'outcome', 'How the case ends', catalog.outcomes));
  }
  if (is(element, 'bpmn:BoundaryEvent') || is(element, 'bpmn:IntermediateCatchEvent')) {
    entries.push(propertyEntry(element, config, 'effect', 'Deadline effect', catalog.effects));
    entries.push(propertyEntry(element, config, 'clock', 'Whose clock', catalog.clocks));
  }
  return entries;
}

export default function HotlinePropertiesProvider(propertiesPanel, translate, config) {
  const hotline = config || {};
  this.getGroups = function (element) {
    return function (groups) {
      if (!hotline.catalog) return groups;
      const entries = hotlineEntries(element, hotline);
      if (entries.length) {
        groups.splice(1, 0, { id: 'hotline', label: translate('Hotline'), entries });
      }
      if (timerDefinition(element)) {
        groups.push({
          id: 'hotline-timer',
          label: translate('Deadline timer'),
          entries: [
            { id: 'hotline-timer-kind', element, config: hotline, component: TimerKind, isEdited: isSelectEntryEdited },
            { id: 'hotline-timer-policy', element, config: hotline, component: TimerPolicy, isEdited: isSelectEntryEdited },
            { id: 'hotline-timer-value', element, config: hotline, component: TimerValue, isEdited: isTextAreaEntryEdited },
          ],
        });
      }
      if (is(element, 'bpmn:SequenceFlow')) {
        const source = element.source && getBusinessObject(element.source);
        if (source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
          groups.push({
            id: 'hotline-condition',
            label: translate('Gateway condition'),
            entries: [{ id: 'hotline-condition-expression', element, config: hotline, component: Condition, isEdited: isTextAreaEntryEdited }],
          });
        }
      }
      if (is(element, 'bpmn:ScriptTask')) {
        groups.push({
          id: 'hotline-script',
          label: translate('Script'),
          entries: [{ id: 'hotline-script-text', element, config: hotline, component: Script, isEdited: isTextAreaEntryEdited }],
        });
      }
      if (is(element, 'bpmn:ServiceTask')) {
        const entries2 = [
          { id: 'hotline-connector', element, config: hotline, component: ConnectorChoice, isEdited: isSelectEntryEdited },
        ];
        const operator = operatorOf(element);
        const connector = operator && hotline.catalog.connectors.find((c) => c.name === operator.id);
        if (connector) {
          entries2.push({ id: 'hotline-connector-result', element, component: ResultVariable, isEdited: isTextFieldEntryEdited });
          for (const param of connector.params) {
            entries2.push({
              id: `hotline-connector-param-${param.name}`,
              element,
              param,
              config: hotline,
              component: ConnectorParameter,
              isEdited: isTextFieldEntryEdited,
            });
          }
        }
        groups.push({ id: 'hotline-connector', label: translate('Connector'), entries: entries2 });
      }
      return groups;
    };
  };
  propertiesPanel.registerProvider(LOW_PRIORITY, this);
}

HotlinePropertiesProvider.$inject = ['propertiesPanel', 'translate', 'config.hotline'];
