// 企业接口: per enterprise, the API keys its systems use (make one, shown once; revoke)
// and its webhook (the URL, a new secret shown once, recent deliveries), with the
// webhook's recorded changes.

import { computed, onMounted, reactive, ref, watch } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs } from "../../store.js";
import { ChangeList, ShownOnce } from "./common.js";

export default {
  components: { ChangeList, ShownOnce },
  props: { params: Object },
  setup(props) {
    const { t } = useI18n();
    // The units with a system of their own to connect: top-level enterprises first.
    const units = computed(() => [...refs.enterprises].sort((a, b) => (a.parent_id ? 1 : 0) - (b.parent_id ? 1 : 0)));
    const chosen = ref(Number(props.params?.enterprise) || units.value[0]?.id || null);
    const keys = ref([]);
    const newKey = reactive({ name: "", shown: "", saving: false });
    const webhook = reactive({ url: null, edit: "", secret: "", deliveries: [], saving: false, version: 0 });

    async function load() {
      if (!chosen.value) return;
      const id = chosen.value;
      const [k, w, d] = await Promise.all([
        api.get(`/api/v1/admin/enterprises/${id}/api-keys`),
        api.get(`/api/v1/enterprises/${id}/webhook`),
        api.get(`/api/v1/enterprises/${id}/webhook/deliveries`, { limit: 10 }),
      ]);
      keys.value = k.items;
      webhook.url = w.url;
      webhook.edit = w.url || "";
      webhook.deliveries = d.items;
      webhook.version += 1; // the change list reads again
    }
    onMounted(load);
    watch(chosen, () => {
      newKey.shown = "";
      webhook.secret = "";
      window.history.replaceState(null, "", `#/admin/integrations?enterprise=${chosen.value}`);
      load();
    });

    async function makeKey() {
      newKey.saving = true;
      try {
        const made = await api.post(`/api/v1/admin/enterprises/${chosen.value}/api-keys`, { name: newKey.name });
        newKey.shown = made.key;
        newKey.name = "";
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        newKey.saving = false;
      }
    }

    async function revoke(key) {
      try {
        await ElMessageBox.confirm(t("adminUi.confirmRevoke", { name: key.name }), t("adminUi.confirm"), {
          type: "warning", confirmButtonText: t("adminUi.revoke"), cancelButtonText: t("app.cancel"),
        });
      } catch {
        return;
      }
      try {
        await api.post(`/api/v1/admin/enterprises/${chosen.value}/api-keys/${key.id}/revoke`);
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function saveWebhook() {
      webhook.saving = true;
      try {
        webhook.secret = (await api.put(`/api/v1/enterprises/${chosen.value}/webhook`, { url: webhook.edit })).secret;
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        webhook.saving = false;
      }
    }

    async function removeWebhook() {
      try {
        await ElMessageBox.confirm(t("adminUi.confirmRemoveWebhook"), t("adminUi.confirm"), {
          type: "warning", confirmButtonText: t("adminUi.remove"), cancelButtonText: t("app.cancel"),
        });
      } catch {
        return;
      }
      await api.delete(`/api/v1/enterprises/${chosen.value}/webhook`);
      webhook.secret = "";
      await load();
    }

    return { t, units, chosen, keys, newKey, makeKey, revoke, webhook, saveWebhook, removeWebhook, nameOf };
  },
  template: `
  <div class="admin-integrations">
    <div class="page-head">
      <h2>{{ t('adminUi.integrationsTitle') }}</h2>
      <el-select v-model="chosen" filterable data-test="integration-enterprise" style="width: 260px">
        <el-option v-for="e in units" :key="e.id" :value="e.id" :label="nameOf(e)" />
      </el-select>
    </div>
    <section class="admin-panel" data-test="api-keys">
      <h3>{{ t('adminUi.apiKeys') }}</h3>
      <p class="small muted">{{ t('adminUi.apiKeysHint') }}</p>
      <form class="admin-filters" @submit.prevent="makeKey">
        <el-input v-model="newKey.name" :placeholder="t('adminUi.keyName')" data-test="key-name" />
        <el-button type="primary" native-type="submit" :loading="newKey.saving" :disabled="!newKey.name.trim()"
                   data-test="key-new">{{ t('adminUi.newKey') }}</el-button>
      </form>
      <ShownOnce v-if="newKey.shown" :value="newKey.shown" :hint="t('adminUi.keyShownOnce')" />
      <el-table :data="keys" size="small" :empty-text="t('adminUi.noKeys')">
        <el-table-column :label="t('adminUi.keyName')" min-width="140" prop="name" />
        <el-table-column :label="t('adminUi.prefix')" width="120">
          <template #default="{ row }"><span class="mono">{{ row.key_prefix }}…</span></template>
        </el-table-column>
        <el-table-column :label="t('adminUi.createdAt')" width="150">
          <template #default="{ row }">{{ $fmtTime(row.created_at, true) }}<div class="tiny muted">{{ row.created_by || t('adminUi.commandLine') }}</div></template>
        </el-table-column>
        <el-table-column :label="t('adminUi.lastUsed')" width="150">
          <template #default="{ row }">{{ row.last_used_at ? $fmtTime(row.last_used_at, true) : t('adminUi.neverUsed') }}</template>
        </el-table-column>
        <el-table-column :label="t('adminUi.state')" width="150">
          <template #default="{ row }">
            <el-tag v-if="row.revoked_at" disable-transitions size="small" type="info">{{ t('adminUi.revokedAt', { at: $fmtTime(row.revoked_at, true) }) }}</el-tag>
            <template v-else>
              <el-tag disable-transitions size="small" type="success">{{ t('adminUi.live') }}</el-tag>
              <el-button size="small" link type="danger" data-test="key-revoke" @click="revoke(row)">{{ t('adminUi.revoke') }}</el-button>
            </template>
          </template>
        </el-table-column>
      </el-table>
    </section>
    <section class="admin-panel" data-test="webhook">
      <h3>{{ t('adminUi.webhook') }}</h3>
      <p class="small muted">{{ webhook.url ? t('adminUi.webhookAt', { url: webhook.url }) : t('adminUi.noWebhook') }}</p>
      <form class="admin-filters" @submit.prevent="saveWebhook">
        <el-input v-model="webhook.edit" placeholder="https://" style="width: min(420px, 100%)" />
        <el-button type="primary" native-type="submit" :loading="webhook.saving" :disabled="!webhook.edit">{{ t('adminUi.setWebhook') }}</el-button>
        <el-button v-if="webhook.url" @click="removeWebhook">{{ t('adminUi.remove') }}</el-button>
      </form>
      <ShownOnce v-if="webhook.secret" :value="webhook.secret" :hint="t('adminUi.secretShownOnce')" />
      <el-table v-if="webhook.deliveries.length" :data="webhook.deliveries" size="small">
        <el-table-column :label="t('adminUi.at')" width="150">
          <template #default="{ row }">{{ $fmtTime(row.created_at, true) }}</template>
        </el-table-column>
        <el-table-column :label="t('adminUi.event')" prop="event" min-width="140" />
        <el-table-column :label="t('adminUi.state')" prop="state" width="110" />
        <el-table-column :label="t('adminUi.attempts')" width="90">
          <template #default="{ row }">{{ row.attempts.length }}</template>
        </el-table-column>
      </el-table>
      <h4 style="margin-top: 14px">{{ t('adminUi.history') }}</h4>
      <ChangeList :key="webhook.version" entity="webhook" :thing-key="String(chosen)" :limit="10" />
    </section>
  </div>`,
};
