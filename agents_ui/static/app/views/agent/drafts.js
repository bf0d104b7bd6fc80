// Drafts to confirm: orders that came in as SMS, recordings or forms. The agent reads
// one (looks at its photo, plays its recorded message), picks its service item (suggested
// from the text) and registers it. A citizen's hard case (办不成事, from the public form)
// stays one, with where they already tried.

import { onMounted, reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, session } from "../../store.js";
import { useLiveReload } from "../common.js";
import { MediaStrip } from "../media.js";
import { AreaSelect, ItemSelect } from "../pickers.js";
import { SuggestPanel, useSuggestions } from "./suggestions.js";

export default {
  components: { AreaSelect, ItemSelect, MediaStrip, SuggestPanel },
  // dialog: whether the draft's dialog is open (the console's shortcuts wait meanwhile).
  emits: ["confirmed", "dialog"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const user = session.user;
    const drafts = ref([]);
    const dialog = reactive({ open: false, draft: null, form: {}, saving: false });
    const suggestions = useSuggestions(() => ({
      text: dialog.open ? dialog.draft?.description : "",
      hotline: dialog.draft?.hotline_code,
      channel: dialog.draft?.channel,
      area: dialog.form.area,
    }));
    watch(() => dialog.open, (open) => emit("dialog", open));

    async function load() {
      const query = { status: "draft", limit: 20 };
      if (user.role === "agent" && user.hotline_code) query.hotline_code = user.hotline_code;
      drafts.value = (await api.get("/api/v1/orders", query)).items;
    }
    useLiveReload(load);
    onMounted(load);

    function openDraft(draft) {
      Object.assign(dialog, {
        open: true,
        draft,
        form: {
          service_item: draft.service_item_code || "",
          area: draft.area_code || "",
          address: draft.address || "",
          caller_name: draft.caller_name || "",
          priority: draft.priority || "normal",
        },
      });
    }

    async function confirmDraft() {
      const f = dialog.form;
      if (!f.service_item) {
        ElMessage.warning(t("agent.required", { field: t("agent.serviceItem") }));
        return;
      }
      dialog.saving = true;
      const body = { service_item_code: f.service_item, priority: f.priority, address: f.address };
      if (f.area) body.area_code = f.area;
      if (f.caller_name) body.caller_name = f.caller_name;
      if (suggestions.first()) body.suggested_item_code = suggestions.first();
      try {
        const order = await api.post(`/api/v1/orders/${dialog.draft.id}/confirm`, body);
        ElMessage.success(t("agent.registered", { number: order.number }));
        dialog.open = false;
        emit("confirmed");
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        dialog.saving = false;
      }
    }

    return { t, drafts, dialog, suggestions, openDraft, confirmDraft };
  },
  template: `
  <el-card shadow="never" class="panel">
    <template #header>
      <div class="panel-head"><span>{{ t('agent.drafts') }}</span>
        <el-tag disable-transitions size="small" :type="drafts.length ? 'danger' : 'info'" round>{{ drafts.length }}</el-tag></div>
    </template>
    <div v-if="!drafts.length" class="empty-line">{{ t('agent.draftsEmpty') }}</div>
    <ul v-else class="plain-list" data-test="drafts">
      <li v-for="d in drafts" :key="d.id" class="draft-row" tabindex="0"
          @click="openDraft(d)" @keyup.enter="openDraft(d)">
        <div class="draft-head">
          <el-tag disable-transitions size="small" effect="plain">{{ t('channel.' + d.channel) }}</el-tag>
          <span class="mono small">{{ d.number }}</span>
          <span class="muted small">{{ $fmtTime(d.created_at) }}</span>
          <el-tag v-if="d.hard_case" disable-transitions size="small" type="danger">{{ t('hardCase.tab') }}</el-tag>
        </div>
        <div class="draft-text" data-test="draft-text">{{ d.description }}</div>
        <MediaStrip :items="d.media" compact />
      </li>
    </ul>
  </el-card>

  <el-dialog v-model="dialog.open" :title="t('agent.confirmDraft') + ' ' + (dialog.draft?.number || '')" width="680px">
    <template v-if="dialog.draft">
      <div class="draft-body">
        <el-tag disable-transitions size="small" effect="plain">{{ t('channel.' + dialog.draft.channel) }}</el-tag>
        <span class="mono small">{{ dialog.draft.caller_phone || '' }}</span>
        <p class="draft-text full-text" data-test="draft-dialog-text">{{ dialog.draft.description }}</p>
        <MediaStrip :items="dialog.draft.media" />
        <el-alert v-if="dialog.draft.hard_case" type="error" :closable="false" :title="t('hardCase.flag')" data-test="draft-hard-case">
          <div>{{ t('hardCase.triedLine', { text: dialog.draft.tried_elsewhere }) }}</div>
        </el-alert>
      </div>
      <SuggestPanel :state="suggestions.state" :chosen="dialog.form.service_item"
                    @pick="(i) => (dialog.form.service_item = suggestions.state.items[i].code)" />
      <el-form label-position="top" class="entry-form">
        <el-form-item :label="t('agent.serviceItem')" required>
          <ItemSelect v-model="dialog.form.service_item" :placeholder="t('agent.searchItem')" />
        </el-form-item>
        <el-form-item :label="t('agent.area')"><AreaSelect v-model="dialog.form.area" :placeholder="t('agent.areaHint')" /></el-form-item>
        <el-form-item :label="t('agent.address')"><el-input v-model="dialog.form.address" maxlength="300" /></el-form-item>
        <el-form-item :label="t('agent.callerName')"><el-input v-model="dialog.form.caller_name" maxlength="64" /></el-form-item>
      </el-form>
    </template>
    <template #footer>
      <el-button @click="dialog.open = false">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="dialog.saving" data-test="confirm-draft" @click="confirmDraft">{{ t('agent.register') }}</el-button>
    </template>
  </el-dialog>`,
};
