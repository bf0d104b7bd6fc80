// 12345 对接 (docs/exchange.md, "Setting up a platform"): the platforms with their queued
// and failed messages; add one (its key and secret shown once), edit it or switch it
// off, issue new credentials (shown once, the old stop at once); a platform's latest
// requests to us; the messages the platforms did not take, each sent again. Every change
// is in 变更记录 (entity exchange_platform), never the key or the secret.

import { computed, onMounted, reactive, ref } from "vue";
import { ElMessage, ElMessageBox } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText, nameOf, refs } from "../../store.js";
import { FailedMessages } from "../exchange.js";
import { ShownOnce } from "./common.js";

const PLATFORMS = "/api/v1/exchange/platforms";
const EMPTY = { code: "", name_zh: "", name_en: "", hotline_code: "", base_url: "", contract: "{}", active: true };

// The contract as the form shows it: indented JSON of the parts the platform renames.
function contractText(contract) {
  const named = Object.fromEntries(
    Object.entries(contract || {}).filter(([, v]) => v && (typeof v !== "object" || Object.values(v).some(Boolean))),
  );
  return JSON.stringify(named, null, 2);
}

export default {
  components: { FailedMessages, ShownOnce },
  setup() {
    const { t } = useI18n();
    const platforms = ref([]);
    const dialog = reactive({ open: false, editing: null, saving: false, errors: {} });
    const form = reactive({ ...EMPTY });
    const shown = ref(null); // {code, key, secret}: the credentials, this once
    const requests = reactive({ platform: null, rows: [] });
    const failedList = ref(null);

    async function load() {
      try {
        platforms.value = (await api.get(PLATFORMS)).items;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    onMounted(load);

    function openNew() {
      Object.assign(form, { ...EMPTY, hotline_code: refs.hotlines[0]?.code || "" });
      Object.assign(dialog, { open: true, editing: null, errors: {} });
    }
    function openEdit(row) {
      Object.assign(form, {
        code: row.code, name_zh: row.name_zh, name_en: row.name_en, hotline_code: row.hotline_code,
        base_url: row.base_url, contract: contractText(row.contract), active: row.active,
      });
      Object.assign(dialog, { open: true, editing: row, errors: {} });
    }

    // A 422's fields by the form's items: the contract's own (contract.fields.…) under it.
    const fieldErrors = (fields) =>
      Object.entries(fields || {}).reduce((errors, [name, text]) => {
        const item = name.split(".")[0];
        errors[item] = errors[item] ? `${errors[item]}; ${text}` : item === name ? text : `${name}: ${text}`;
        return errors;
      }, {});

    async function save() {
      dialog.errors = {};
      let contract;
      try {
        contract = JSON.parse(form.contract || "{}");
      } catch {
        dialog.errors = { contract: t("exchangeUi.contractNotJson") };
        return;
      }
      const body = {
        name_zh: form.name_zh, name_en: form.name_en, hotline_code: form.hotline_code, base_url: form.base_url, contract,
      };
      dialog.saving = true;
      try {
        if (dialog.editing) {
          await api.patch(`${PLATFORMS}/${dialog.editing.code}`, { ...body, active: form.active });
          ElMessage.success(t("app.saved"));
        } else {
          const made = await api.post(PLATFORMS, { code: form.code, ...body });
          shown.value = { code: made.code, key: made.key, secret: made.secret };
        }
        dialog.open = false;
        await load();
      } catch (e) {
        dialog.errors = fieldErrors(e.fields);
        ElMessage.error(errorText(e));
      } finally {
        dialog.saving = false;
      }
    }

    async function renew(row) {
      try {
        await ElMessageBox.confirm(t("exchangeUi.confirmRenew", { name: nameOf(row) }), t("adminUi.confirm"), {
          type: "warning", confirmButtonText: t("exchangeUi.renew"), cancelButtonText: t("app.cancel"),
        });
      } catch {
        return;
      }
      try {
        const made = await api.post(`${PLATFORMS}/${row.code}/credentials`);
        shown.value = { code: row.code, key: made.key, secret: made.secret };
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function openRequests(row) {
      requests.platform = row;
      try {
        requests.rows = (await api.get(`${PLATFORMS}/${row.code}/requests`, { limit: 50 })).items;
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    const reloadAll = async () => {
      await load();
      await failedList.value?.load();
      if (requests.platform) await openRequests(requests.platform);
    };
    const hotlineLabel = (code) => {
      const hotline = refs.hotlines.find((h) => h.code === code);
      return hotline ? `${code} ${nameOf(hotline)}` : code;
    };
    const requestsOpen = computed({
      get: () => !!requests.platform,
      set: (open) => {
        if (!open) requests.platform = null;
      },
    });

    return {
      t, platforms, dialog, form, shown, requests, requestsOpen, failedList, refs, nameOf,
      load, openNew, openEdit, save, renew, openRequests, reloadAll, hotlineLabel,
    };
  },
  template: `
  <div class="admin-exchange">
    <div class="page-head">
      <h2>{{ t('exchangeUi.adminTitle') }}</h2>
      <span class="grow"></span>
      <el-button @click="reloadAll">{{ t('exchangeUi.refresh') }}</el-button>
      <el-button type="primary" data-test="platform-new" @click="openNew">{{ t('exchangeUi.newPlatform') }}</el-button>
    </div>
    <p class="small muted">{{ t('exchangeUi.adminHint') }}</p>
    <section class="admin-panel" data-test="platforms">
      <h3>{{ t('exchangeUi.platforms') }}</h3>
      <el-table :data="platforms" size="small" :empty-text="t('exchangeUi.noPlatforms')">
        <el-table-column :label="t('exchangeUi.code')" width="130"><template #default="{ row }"><span class="mono" data-test="platform-code">{{ row.code }}</span></template></el-table-column>
        <el-table-column :label="t('exchangeUi.platform')" min-width="160"><template #default="{ row }">{{ nameOf(row) }}</template></el-table-column>
        <el-table-column :label="t('order.hotline')" width="140"><template #default="{ row }">{{ hotlineLabel(row.hotline_code) }}</template></el-table-column>
        <el-table-column :label="t('exchangeUi.baseUrl')" min-width="200"><template #default="{ row }"><span class="mono small">{{ row.base_url || '—' }}</span></template></el-table-column>
        <el-table-column :label="t('adminUi.state')" width="90"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="row.active ? 'success' : 'info'">{{ row.active ? t('exchangeUi.on') : t('exchangeUi.off') }}</el-tag></template></el-table-column>
        <el-table-column :label="t('exchangeUi.queued')" width="80" align="right" prop="queued" />
        <el-table-column :label="t('exchangeUi.failed')" width="80" align="right"><template #default="{ row }">
          <span :class="{ 'exchange-failed-count': row.failed > 0 }">{{ row.failed }}</span></template></el-table-column>
        <el-table-column :label="t('app.actions')" min-width="220"><template #default="{ row }">
          <div class="admin-actions">
            <el-button size="small" link type="primary" data-test="platform-edit" @click="openEdit(row)">{{ t('app.edit') }}</el-button>
            <el-button size="small" link type="warning" data-test="platform-renew" @click="renew(row)">{{ t('exchangeUi.renew') }}</el-button>
            <el-button size="small" link data-test="platform-requests" @click="openRequests(row)">{{ t('exchangeUi.requests') }}</el-button>
          </div></template></el-table-column>
      </el-table>
    </section>
    <section class="admin-panel">
      <h3>{{ t('exchangeUi.failedTitle') }}</h3>
      <FailedMessages ref="failedList" @retried="load" />
    </section>

    <el-dialog v-model="dialog.open" :title="dialog.editing ? t('exchangeUi.editPlatform') : t('exchangeUi.newPlatform')"
               width="min(640px, 94vw)" data-test="platform-dialog">
      <el-form label-position="top" @submit.prevent="save">
        <el-form-item :label="t('exchangeUi.code')" :error="dialog.errors.code">
          <el-input v-model="form.code" :disabled="!!dialog.editing" name="platform-code" placeholder="qd12345" autocomplete="off" />
        </el-form-item>
        <div class="two-col">
          <el-form-item :label="t('exchangeUi.nameZh')" :error="dialog.errors.name_zh">
            <el-input v-model="form.name_zh" name="platform-name-zh" />
          </el-form-item>
          <el-form-item :label="t('exchangeUi.nameEn')" :error="dialog.errors.name_en">
            <el-input v-model="form.name_en" name="platform-name-en" />
          </el-form-item>
        </div>
        <el-form-item :label="t('exchangeUi.hotline')" :error="dialog.errors.hotline_code">
          <el-select v-model="form.hotline_code" class="full" data-test="platform-hotline">
            <el-option v-for="h in refs.hotlines" :key="h.code" :value="h.code" :label="h.code + ' ' + nameOf(h)" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('exchangeUi.baseUrl')" :error="dialog.errors.base_url">
          <el-input v-model="form.base_url" name="platform-base-url" placeholder="https://" />
        </el-form-item>
        <el-form-item :label="t('exchangeUi.contract')" :error="dialog.errors.contract" class="exchange-contract">
          <el-input v-model="form.contract" type="textarea" :rows="6" name="platform-contract" />
          <div class="tiny muted">{{ t('exchangeUi.contractHint') }}</div>
        </el-form-item>
        <el-form-item v-if="dialog.editing" :label="t('adminUi.state')">
          <el-switch v-model="form.active" :active-text="t('exchangeUi.on')" :inactive-text="t('exchangeUi.off')" data-test="platform-active" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="dialog.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="dialog.saving" data-test="platform-save" @click="save">{{ t('app.save') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog :model-value="!!shown" :title="t('exchangeUi.credentialsOf', { code: shown?.code || '' })" width="min(620px, 94vw)"
               data-test="platform-credentials" :close-on-click-modal="false" @close="shown = null">
      <template v-if="shown">
        <p class="small">{{ t('exchangeUi.credentialsHint') }}</p>
        <h4>{{ t('exchangeUi.key') }}</h4>
        <ShownOnce :value="shown.key" :hint="t('exchangeUi.shownOnce')" data-test="platform-key" />
        <h4>{{ t('exchangeUi.secret') }}</h4>
        <ShownOnce :value="shown.secret" :hint="t('exchangeUi.shownOnce')" data-test="platform-secret" />
      </template>
      <template #footer><el-button type="primary" data-test="credentials-noted" @click="shown = null">{{ t('adminUi.noted') }}</el-button></template>
    </el-dialog>

    <el-drawer v-model="requestsOpen" :title="t('exchangeUi.requestsOf', { name: requests.platform ? nameOf(requests.platform) : '' })"
               size="min(760px, 100%)">
      <el-table :data="requests.rows" size="small" :empty-text="t('exchangeUi.noRequests')" data-test="platform-request-list">
        <el-table-column :label="t('exchangeUi.receivedAt')" width="150"><template #default="{ row }">{{ $fmtTime(row.received_at, true) }}</template></el-table-column>
        <el-table-column :label="t('exchangeUi.platformNumber')" min-width="160"><template #default="{ row }"><span class="mono small">{{ row.platform_number || '—' }}</span></template></el-table-column>
        <el-table-column :label="t('exchangeUi.status')" width="80"><template #default="{ row }">
          <el-tag disable-transitions size="small" :type="row.status < 300 ? 'success' : 'danger'">{{ row.status }}</el-tag></template></el-table-column>
        <el-table-column :label="t('exchangeUi.error')" min-width="180"><template #default="{ row }"><span class="small">{{ row.error || '—' }}</span></template></el-table-column>
        <el-table-column :label="t('exchangeUi.order')" width="90"><template #default="{ row }">
          <a v-if="row.order_id" class="link" :href="'#/orders/' + row.order_id">{{ t('exchangeUi.openOrder') }}</a><span v-else>—</span></template></el-table-column>
      </el-table>
    </el-drawer>
  </div>`,
};
