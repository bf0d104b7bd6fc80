// Order entry: what the caller says, a suggested service item, outage hints for the area,
// registering (or resolving on the call), and the possible duplicates: offered while the
// agent types, so a duplicate is registered straight into its parent and never dispatched.
// A hard case (办不成事) says where the caller already tried; it is not resolved on the call.
// Knowledge articles matching the words are offered beside the item (agent/knowledge.js);
// one taken fills the reply of "resolved on the call" and is recorded with the order.
// When the words suggest 紧急 (gas smell, flooding, …) a notice by the priority says why and
// sets it in one click; the priority is never changed without the agent.
// The console fills it from a call and drives it from the keyboard.

import { computed, nextTick, onMounted, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs, session } from "../../store.js";
import { ORDER_KINDS } from "../../vocab.js";
import { AreaSelect, ItemSelect } from "../pickers.js";
import { SuggestPanel, useSuggestions } from "./suggestions.js";
import { AreaSuggestionLine, useAreaSuggestion } from "./area_suggestion.js";
import { KnowledgePanel, answerOf, useKnowledge } from "./knowledge.js";

// The agent is still typing: ask for candidates once they pause.
const CANDIDATES_DELAY_MS = 400;

function newRequestId() {
  return `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

function emptyForm(hotline) {
  return {
    hotline: hotline || "",
    description: "",
    service_item: "",
    kind: "",
    priority: "normal",
    area: "",
    address: "",
    caller_phone: "",
    caller_name: "",
    resolve: false,
    reply: "",
    hard_case: false,
    tried_elsewhere: "",
    request_id: newRequestId(),
  };
}

export default {
  components: { AreaSelect, AreaSuggestionLine, ItemSelect, KnowledgePanel, SuggestPanel },
  props: { call: Object }, // the call being answered, or null
  // saved: an order was registered or merged; dialog: whether the duplicates' dialog is
  // open (the console's shortcuts wait meanwhile).
  emits: ["saved", "dialog"],
  setup(props, { emit, expose }) {
    const { t } = useI18n();
    const user = session.user;
    const outages = ref([]);
    const saving = ref(false);
    const form = reactive(emptyForm(user.hotline_code));
    const duplicates = reactive({ open: false, order: null, items: [] });
    // Orders the one being typed would duplicate (GET /api/v1/duplicate-candidates).
    const candidates = ref([]);
    const descriptionInput = ref(null);
    // 紧急 suggested from the description (null: none), shown until the agent chooses urgent.
    const urgency = ref(null);
    // A call on the screen-pop is spoken; an order typed without one says no channel.
    const suggestions = useSuggestions(() => ({
      text: form.description,
      hotline: form.hotline,
      channel: props.call ? "voice" : null,
      area: form.area,
    }), urgency);
    const areaSuggestion = useAreaSuggestion(form);
    const knowledge = useKnowledge(() => ({
      text: form.description,
      hotline: form.hotline,
      service_item: form.service_item,
      area: form.area,
    }));
    // The answer last put into the reply from an article: replaced by the next one taken,
    // whereas words the agent typed there are kept (the answer goes below them).
    let inserted = "";
    const urgencyHint = computed(() => {
      if (!urgency.value || form.priority === "urgent") return "";
      const reasons = urgency.value.reasons.map((r) =>
        t("urgency.reason", { reason: r.text, words: r.matched }),
      );
      return t("urgency.suggested", { reasons: reasons.join(t("urgency.separator")) });
    });
    watch(() => duplicates.open, (open) => emit("dialog", open));

    // Orders are registered on the user's own hotlines only (null: every hotline).
    const myHotlines = computed(() =>
      refs.hotlines.filter((h) => !user.hotline_codes || user.hotline_codes.includes(h.code)),
    );
    const item = computed(() => refs.itemsByCode[form.service_item]);
    watch(
      () => form.service_item,
      (code) => {
        const chosen = refs.itemsByCode[code];
        if (chosen) form.kind = chosen.kind;
      },
    );

    // Outages covering the chosen area (or its district), of the item's utility.
    const outageHints = computed(() => {
      if (!form.area) return [];
      const area = refs.areas[form.area];
      const codes = new Set([form.area, area?.parent_code].filter(Boolean));
      return outages.value.filter(
        (o) =>
          o.area_codes.some((c) => codes.has(c) || refs.areas[c]?.parent_code === form.area) &&
          (!item.value || !item.value.domain || item.value.domain === o.domain),
      );
    });

    let candidatesTimer = null;
    let candidatesAsked = 0;
    watch(
      () => [form.service_item, form.area, form.address, form.caller_phone],
      () => {
        clearTimeout(candidatesTimer);
        candidatesTimer = setTimeout(loadCandidates, CANDIDATES_DELAY_MS);
      },
    );

    async function loadCandidates() {
      const asked = ++candidatesAsked;
      if (!form.service_item) {
        candidates.value = [];
        return;
      }
      const query = { service_item_code: form.service_item, address: form.address };
      if (form.area) query.area_code = form.area;
      if (form.caller_phone) query.caller_phone = form.caller_phone;
      try {
        const found = (await api.get("/api/v1/duplicate-candidates", query)).items;
        if (asked === candidatesAsked) candidates.value = found; // an older answer is dropped
      } catch (e) {
        if (asked === candidatesAsked) candidates.value = [];
      }
    }

    function matchText(match) {
      if (match.kind === "same_caller") return t("dupes.sameCaller");
      if (match.kind === "outage") return t("dupes.outage", { title: match.title });
      return t("dupes.similarAddress", { percent: Math.round(match.similarity * 100) });
    }

    onMounted(async () => {
      outages.value = (await api.get("/api/v1/outages")).items;
    });

    // A call taken: a fresh form with what is known of the caller, the cursor in the
    // description for what they say.
    function answer(offer) {
      const caller = offer.caller || {};
      const citizen = caller.citizen || {};
      // The profile's place, else that of the caller's last order (caller.prefill).
      const place = caller.prefill || {};
      Object.assign(form, emptyForm(offer.hotline_code || user.hotline_code), {
        caller_phone: caller.phone || "",
        caller_name: citizen.name || "",
        area: place.area_code || "",
        address: place.address || "",
      });
      nextTick(() => descriptionInput.value?.focus());
    }

    // During a call the caller stays; the rest starts again.
    function clear() {
      Object.assign(form, emptyForm(props.call?.hotline_code || user.hotline_code), {
        caller_phone: form.caller_phone && props.call ? form.caller_phone : "",
        caller_name: props.call ? form.caller_name : "",
      });
      suggestions.clear();
      knowledge.clear();
      inserted = "";
      candidates.value = [];
    }

    // An article taken (clicked, or the first one with Alt+K): the order is to be
    // resolved on the call with its answer. A hard case is never resolved on the call.
    function takeArticle(article) {
      if (!article) {
        ElMessage.info(t("kbUi.noArticle"));
        return;
      }
      if (form.hard_case) {
        ElMessage.warning(t("kbUi.hardCase"));
        return;
      }
      knowledge.state.chosen = article;
      form.resolve = true;
      const answer = answerOf(article);
      const typed = form.reply.trim();
      form.reply = !typed || form.reply === inserted ? answer : `${form.reply}\n${answer}`;
      inserted = form.reply;
    }
    const takeFirstArticle = () => takeArticle(knowledge.state.items[0]);
    const dropArticle = () => {
      knowledge.state.chosen = null;
    };

    function pick(index) {
      const chosen = suggestions.state.items[index];
      if (chosen) form.service_item = chosen.code;
    }

    function missing() {
      const need = [
        ["hotline", "agent.hotline"],
        ["description", "agent.description"],
        ["service_item", "agent.serviceItem"],
      ];
      if (form.resolve) need.push(["reply", "agent.reply"]);
      if (form.hard_case) need.push(["tried_elsewhere", "hardCase.tried"]);
      const gap = need.find(([field]) => !String(form[field] || "").trim());
      return gap ? t("agent.required", { field: t(gap[1]) }) : null;
    }

    // parent: a candidate the agent picked; the order is registered merged into it.
    async function register(parent = null) {
      const problem = missing();
      if (problem) {
        ElMessage.warning(problem);
        return;
      }
      saving.value = true;
      const body = {
        hotline_code: form.hotline,
        service_item_code: form.service_item,
        description: form.description,
        priority: form.priority,
        address: form.address,
        caller_name: form.caller_name,
        client_request_id: form.request_id,
      };
      if (form.kind) body.kind = form.kind;
      if (form.area) body.area_code = form.area;
      if (suggestions.first()) body.suggested_item_code = suggestions.first();
      if (form.caller_phone) body.caller_phone = form.caller_phone;
      // Taken on a call: the call lists the order, and the order shows the call.
      if (props.call?.call_id) body.call_id = props.call.call_id;
      const offered = new Set(candidates.value.map((c) => c.id));
      if (form.hard_case) Object.assign(body, { hard_case: true, tried_elsewhere: form.tried_elsewhere });
      try {
        let order;
        if (parent) {
          order = await api.post("/api/v1/orders", { ...body, parent_id: parent.id });
          ElMessage.success(t("dupes.registered", { number: order.number, parent: parent.number }));
        } else if (form.resolve) {
          const article = knowledge.state.chosen ? { article_id: knowledge.state.chosen.id } : {};
          order = await api.post("/api/v1/orders/resolved-on-call", { ...body, reply: form.reply, ...article });
          ElMessage.success(t("agent.resolved", { number: order.number }));
        } else {
          order = await api.post("/api/v1/orders", body);
          ElMessage.success(t("agent.registered", { number: order.number }));
          // The agent saw the candidates offered while typing and chose a new order;
          // ask again only about ones that were not offered.
          const unseen = (order.possible_duplicates || []).filter((d) => !offered.has(d.id));
          if (unseen.length) Object.assign(duplicates, { open: true, order, items: unseen });
        }
        clear();
        emit("saved");
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        saving.value = false;
      }
    }

    async function merge(parent) {
      try {
        await api.post(`/api/v1/orders/${duplicates.order.id}/merge`, { parent_id: parent.id });
        ElMessage.success(t("agent.merged", { number: parent.number }));
        duplicates.open = false;
        emit("saved");
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    expose({ answer, clear, pick, register, takeFirstArticle });
    return {
      t, refs, form, saving, suggestions, urgencyHint, outageHints, duplicates, candidates, descriptionInput,
      ORDER_KINDS, myHotlines, nameOf, clear, pick, register, merge, matchText,
      areaSuggestion, knowledge, takeArticle, dropArticle,
    };
  },
  template: `
  <el-card shadow="never" class="panel entry">
    <template #header><div class="panel-head"><span>{{ t('agent.entry') }}</span>
      <span class="muted small">{{ form.hotline }}</span></div></template>
    <el-form label-position="top" class="entry-form" @submit.prevent="register()">
      <el-form-item :label="t('agent.description')" class="span-2" required>
        <el-input ref="descriptionInput" v-model="form.description" type="textarea" :rows="3"
                  :placeholder="t('agent.descriptionHint')" maxlength="4000" data-test="description" />
      </el-form-item>
      <SuggestPanel class="span-2" :state="suggestions.state" :chosen="form.service_item" keys @pick="pick" />
      <KnowledgePanel class="span-2" :state="knowledge.state" keys @pick="takeArticle" @drop="dropArticle" />
      <el-form-item :label="t('agent.serviceItem')" required>
        <ItemSelect v-model="form.service_item" :placeholder="t('agent.searchItem')" />
      </el-form-item>
      <el-form-item :label="t('agent.hotline')" required>
        <el-select v-model="form.hotline" class="full" data-test="hotline-select">
          <el-option v-for="h in myHotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('agent.kind')">
        <el-select v-model="form.kind" class="full">
          <el-option v-for="k in ORDER_KINDS" :key="k" :value="k" :label="t('kind.' + k)" />
        </el-select>
      </el-form-item>
      <el-form-item :label="t('agent.priority')">
        <el-radio-group v-model="form.priority" data-test="priority">
          <el-radio-button value="normal">{{ t('priority.normal') }}</el-radio-button>
          <el-radio-button value="urgent">{{ t('priority.urgent') }}</el-radio-button>
        </el-radio-group>
        <div v-if="urgencyHint" class="urgency-hint" data-test="urgency-hint">
          <span>{{ urgencyHint }}</span>
          <el-button size="small" type="warning" plain data-test="set-urgent"
                     @click="form.priority = 'urgent'">{{ t('urgency.set') }}</el-button>
        </div>
      </el-form-item>
      <el-form-item :label="t('agent.area')" class="area-picker" :class="{ 'area-suggested': areaSuggestion.state.by === 'suggestion' }">
        <AreaSelect :model-value="form.area" :placeholder="t('agent.areaHint')" @update:model-value="areaSuggestion.choose" />
        <AreaSuggestionLine :suggestion="areaSuggestion" :area="form.area" />
      </el-form-item>
      <el-form-item :label="t('agent.address')">
        <el-input v-model="form.address" maxlength="300" data-test="address" @keydown.enter="areaSuggestion.onEnter" />
      </el-form-item>
      <el-alert v-for="o in outageHints" :key="o.id" type="warning" show-icon :closable="false"
                class="span-2" data-test="outage-hint"
                :title="t('agent.outage') + ' · ' + t('agent.outageHint', { title: o.title, start: $fmtTime(o.starts_at), end: $fmtTime(o.ends_at) })" />
      <div v-if="candidates.length" class="span-2 candidates" data-test="duplicate-candidates">
        <div class="candidates-head"><strong>{{ t('dupes.title') }}</strong>
          <span class="muted small">{{ t('dupes.hint') }}</span></div>
        <div v-for="c in candidates" :key="c.id" class="candidate" :data-order="c.id">
          <div class="candidate-text">
            <a :href="'#/orders/' + c.id" class="mono">{{ c.number }}</a>
            <StatusTag :status="c.status" />
            <el-tag v-for="(m, i) in c.matches" :key="i" size="small" type="warning" effect="plain">{{ matchText(m) }}</el-tag>
            <div class="muted small">{{ c.address }}</div>
          </div>
          <el-button size="small" type="warning" :loading="saving" data-test="register-into"
                     @click="register(c)">{{ t('dupes.registerInto') }}</el-button>
        </div>
      </div>
      <el-form-item :label="t('agent.callerPhone')">
        <el-input v-model="form.caller_phone" maxlength="32" class="mono" data-test="caller-phone-input" />
      </el-form-item>
      <el-form-item :label="t('agent.callerName')">
        <el-input v-model="form.caller_name" maxlength="64" />
      </el-form-item>
      <div class="span-2 resolve-line">
        <el-checkbox v-model="form.hard_case" :disabled="form.resolve" data-test="hard-case-toggle">{{ t('hardCase.entryToggle') }}</el-checkbox>
      </div>
      <el-form-item v-if="form.hard_case" :label="t('hardCase.tried')" class="span-2" required>
        <el-input v-model="form.tried_elsewhere" type="textarea" :rows="2" maxlength="2000" :placeholder="t('hardCase.triedHint')" data-test="tried-elsewhere" />
      </el-form-item>
      <div class="span-2 resolve-line">
        <el-checkbox v-model="form.resolve" :disabled="form.hard_case" data-test="resolve-toggle">{{ t('agent.resolveOnCall') }}</el-checkbox>
      </div>
      <el-form-item v-if="form.resolve" :label="t('agent.reply')" class="span-2" required>
        <el-input v-model="form.reply" type="textarea" :rows="2" :placeholder="t('agent.replyHint')" data-test="reply" />
        <div v-if="knowledge.state.chosen" class="kb-answered-with small" data-test="kb-answered-with">
          {{ t('kbUi.answeredWith', { title: knowledge.state.chosen.title }) }}
          <el-button size="small" text @click="dropArticle">{{ t('kbUi.drop') }}</el-button></div>
      </el-form-item>
      <div class="span-2 form-actions">
        <el-button type="primary" size="large" native-type="submit" :loading="saving" data-test="register">
          {{ form.resolve ? t('agent.resolveOnCall') : form.hard_case ? t('hardCase.register') : t('agent.register') }} <kbd>Ctrl+Enter</kbd></el-button>
        <el-button size="large" @click="clear">{{ t('agent.clear') }}</el-button>
      </div>
    </el-form>
  </el-card>

  <el-dialog v-model="duplicates.open" :title="t('agent.duplicates')" width="640px">
    <p class="muted">{{ t('agent.duplicatesHint') }}</p>
    <el-table :data="duplicates.items" size="small">
      <el-table-column :label="t('order.details')" min-width="200">
        <template #default="{ row }"><a :href="'#/orders/' + row.id" class="mono">{{ row.number }}</a>
          <div class="muted small">{{ row.address }}</div></template>
      </el-table-column>
      <el-table-column :label="t('unit.state')" width="110">
        <template #default="{ row }"><StatusTag :status="row.status" /></template>
      </el-table-column>
      <el-table-column width="130">
        <template #default="{ row }"><el-button size="small" type="warning" @click="merge(row)">{{ t('agent.merge') }}</el-button></template>
      </el-table-column>
    </el-table>
  </el-dialog>`,
};
