// The status notifications' settings (administrators): per hotline its default and any
// channel's own, which SMS go, the quiet hours, the cap per order and the texts; every
// change is kept with who made it and when.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText } from "../store.js";

const KINDS = ["dispatched", "completed", "before_callback"];
const hhmm = (time) => String(time || "").slice(0, 5);

export default {
  setup() {
    const { t } = useI18n();
    const items = ref([]);
    const channels = ref([]);
    const placeholders = ref({});
    const editor = reactive({ open: false, saving: false, hotline: "", channel: "default", isNew: false, form: null });
    const history = reactive({ open: false, hotline: "", items: [] });

    async function load() {
      try {
        const answer = await api.get("/api/v1/notification-settings");
        items.value = answer.items;
        channels.value = answer.channels;
        placeholders.value = answer.placeholders;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    onMounted(load);

    const hotlines = computed(() => [...new Set(items.value.map((i) => i.hotline))]);
    const channelName = (channel) => (channel === "default" ? t("notifyUi.defaultChannel") : t("channel." + channel));

    function edit(item, isNew = false) {
      const c = JSON.parse(JSON.stringify(item.config));
      editor.hotline = item.hotline;
      editor.channel = isNew ? channels.value.find((ch) => ch !== "default") : item.channel;
      editor.isNew = isNew;
      editor.form = { ...c, quiet_start: hhmm(c.quiet_start), quiet_end: hhmm(c.quiet_end) };
      editor.open = true;
    }

    async function save() {
      editor.saving = true;
      try {
        await api.put(`/api/v1/notification-settings/${editor.hotline}/${editor.channel}`, editor.form);
        ElMessage.success(t("notifyUi.saved"));
        editor.open = false;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        editor.saving = false;
      }
    }

    async function remove(item) {
      try {
        await api.delete(`/api/v1/notification-settings/${item.hotline}/${item.channel}`);
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function showHistory(hotline) {
      try {
        history.items = (await api.get("/api/v1/notification-settings/changes", { hotline })).items;
        history.hotline = hotline;
        history.open = true;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    const notices = (config) => KINDS.filter((k) => config[k]).map((k) => t("notifyUi.notices." + k)).join(t("notifyUi.sep")) || "—";
    const quiet = (config) =>
      hhmm(config.quiet_start) === hhmm(config.quiet_end) ? t("notifyUi.noQuiet") : `${hhmm(config.quiet_start)}–${hhmm(config.quiet_end)}`;
    const hint = (kind) => (placeholders.value[kind] || []).map((p) => `{${p}}`).join(" ");
    const change = (h) =>
      h.new_config === null ? t("notifyUi.removed") : h.new_config.enabled ? t("notifyUi.on") : t("notifyUi.off");

    return {
      t, items, hotlines, channels, editor, history, KINDS, load, edit, save, remove, showHistory,
      channelName, notices, quiet, hint, change,
    };
  },
  template: `
  <div class="notify-page">
    <div class="page-head">
      <h2>{{ t('notifyUi.title') }}</h2>
      <span class="muted small">{{ t('notifyUi.lead') }}</span>
    </div>
    <el-card shadow="never" class="panel">
      <el-table :data="items" size="small" :empty-text="t('board.empty')" data-test="notify-settings">
        <el-table-column :label="t('order.hotline')" width="90" prop="hotline" />
        <el-table-column :label="t('order.channel')" width="110"><template #default="{ row }">{{ channelName(row.channel) }}</template></el-table-column>
        <el-table-column :label="t('notifyUi.state')" width="90"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="row.config.enabled ? 'success' : 'info'" :data-test="'notify-state-' + row.hotline + '-' + row.channel">{{ row.config.enabled ? t('notifyUi.on') : t('notifyUi.off') }}</el-tag></template></el-table-column>
        <el-table-column :label="t('notifyUi.which')" min-width="200"><template #default="{ row }">{{ notices(row.config) }}</template></el-table-column>
        <el-table-column :label="t('notifyUi.quiet')" width="120"><template #default="{ row }">{{ quiet(row.config) }}</template></el-table-column>
        <el-table-column :label="t('notifyUi.cap')" width="90" align="center"><template #default="{ row }">{{ row.config.max_per_order }}</template></el-table-column>
        <el-table-column :label="t('notifyUi.changed')" min-width="160"><template #default="{ row }">
          <span v-if="row.stored" class="small">{{ row.updated_by }} · {{ $fmtTime(row.updated_at, true) }}</span>
          <span v-else class="muted small">{{ t('notifyUi.builtIn') }}</span></template></el-table-column>
        <el-table-column :label="t('app.actions')" width="250"><template #default="{ row }">
          <el-button size="small" :data-test="'notify-edit-' + row.hotline + '-' + row.channel" @click="edit(row)">{{ t('app.edit') }}</el-button>
          <el-button v-if="row.channel === 'default'" size="small" @click="edit(row, true)">{{ t('notifyUi.forChannel') }}</el-button>
          <el-button v-if="row.channel === 'default'" size="small" text @click="showHistory(row.hotline)">{{ t('notifyUi.history') }}</el-button>
          <el-button v-if="row.stored && row.channel !== 'default'" size="small" text type="danger" @click="remove(row)">{{ t('notifyUi.remove') }}</el-button>
        </template></el-table-column>
      </el-table>
    </el-card>

    <el-dialog v-model="editor.open" width="680px" :title="t('notifyUi.editTitle', { hotline: editor.hotline })">
      <el-form v-if="editor.form" label-position="top" data-test="notify-form">
        <el-form-item v-if="editor.isNew" :label="t('order.channel')">
          <el-select v-model="editor.channel" class="full">
            <el-option v-for="c in channels.filter((c) => c !== 'default')" :key="c" :value="c" :label="channelName(c)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('notifyUi.state')">
          <el-switch v-model="editor.form.enabled" />
        </el-form-item>
        <el-form-item :label="t('notifyUi.which')">
          <el-checkbox v-for="k in KINDS" :key="k" v-model="editor.form[k]">{{ t('notifyUi.notices.' + k) }}</el-checkbox>
        </el-form-item>
        <div class="two-col">
          <el-form-item :label="t('notifyUi.quietFrom')">
            <el-time-select v-model="editor.form.quiet_start" start="00:00" end="23:45" step="00:15" :clearable="false" />
          </el-form-item>
          <el-form-item :label="t('notifyUi.quietTo')">
            <el-time-select v-model="editor.form.quiet_end" start="00:00" end="23:45" step="00:15" :clearable="false" />
          </el-form-item>
          <el-form-item :label="t('notifyUi.cap')">
            <el-input-number v-model="editor.form.max_per_order" :min="1" :max="10" />
          </el-form-item>
          <el-form-item :label="t('notifyUi.ahead')">
            <el-input-number v-model="editor.form.callback_notice_minutes" :min="5" :max="1440" :step="15" />
          </el-form-item>
        </div>
        <el-form-item :label="t('notifyUi.linkBase')">
          <el-input v-model="editor.form.link_base" maxlength="300" placeholder="https://…/track" />
        </el-form-item>
        <el-form-item v-for="k in KINDS" :key="k" :label="t('notifyUi.textOf', { notice: t('notifyUi.notices.' + k) })">
          <el-input v-model="editor.form.templates[k]" type="textarea" :rows="2" maxlength="200" show-word-limit :data-test="'notify-text-' + k" />
          <div class="muted small">{{ t('notifyUi.placeholders') }} {{ hint(k) }}</div>
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="editor.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="editor.saving" data-test="notify-save" @click="save">{{ t('app.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="history.open" width="560px" :title="t('notifyUi.historyOf', { hotline: history.hotline })">
      <div v-if="!history.items.length" class="empty-line">{{ t('board.empty') }}</div>
      <el-timeline v-else>
        <el-timeline-item v-for="h in history.items" :key="h.id" :timestamp="$fmtTime(h.changed_at, true)" placement="top">
          <div class="strong">{{ channelName(h.channel) }} · {{ change(h) }}</div>
          <div class="small muted">{{ h.actor }}</div>
        </el-timeline-item>
      </el-timeline>
    </el-dialog>
  </div>`,
};
