// Outage notices (停水/停气/停热): what runs now and is coming; supervisors publish new ones.
// Agents see the same notices as hints while registering an order in an affected area.

import { onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { areaName, errorText, nameOf, refs, session } from "../store.js";
import { OUTAGE_DOMAINS, SUPERVISOR_ROLES } from "../vocab.js";

function emptyForm() {
  return { domain: "water", kind: "planned", title: "", description: "", areas: [], window: [] };
}

export default {
  setup() {
    const { t } = useI18n();
    const outages = ref([]);
    const form = reactive(emptyForm());
    const saving = ref(false);
    const canPublish = SUPERVISOR_ROLES.includes(session.user.role);

    async function load() {
      outages.value = (await api.get("/api/v1/outages")).items;
    }
    onMounted(load);

    async function publish() {
      const [starts, ends] = form.window || [];
      saving.value = true;
      try {
        await api.post("/api/v1/outages", {
          domain: form.domain,
          kind: form.kind,
          title: form.title,
          description: form.description,
          area_codes: form.areas,
          starts_at: starts ? new Date(starts).toISOString() : null,
          ends_at: ends ? new Date(ends).toISOString() : null,
        });
        ElMessage.success(t("outages.published"));
        Object.assign(form, emptyForm());
        await load();
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        saving.value = false;
      }
    }

    return { t, outages, form, saving, canPublish, OUTAGE_DOMAINS, publish, areaName, nameOf, refs };
  },
  template: `
  <div class="outages-page">
    <div class="page-head"><h2>{{ t('outages.title') }}</h2></div>
    <div :class="canPublish ? 'two-col wide-left' : ''">
      <el-card shadow="never" class="panel">
        <div v-if="!outages.length" class="empty-line">{{ t('outages.empty') }}</div>
        <div v-for="o in outages" :key="o.id" class="outage">
          <div class="outage-head">
            <el-tag disable-transitions size="small" :type="o.kind === 'emergency' ? 'danger' : 'warning'">{{ t('outages.kinds.' + o.kind) }}</el-tag>
            <el-tag disable-transitions size="small" effect="plain">{{ t('domain.' + o.domain) }}</el-tag>
            <span class="strong">{{ o.title }}</span>
          </div>
          <div class="small">{{ $fmtTime(o.starts_at, true) }} — {{ $fmtTime(o.ends_at, true) }}</div>
          <div class="small muted">{{ o.area_codes.map(areaName).join('、') }}</div>
          <p v-if="o.description" class="pre small">{{ o.description }}</p>
        </div>
      </el-card>
      <el-card v-if="canPublish" shadow="never" class="panel">
        <template #header><div class="panel-head"><span>{{ t('outages.publish') }}</span></div></template>
        <el-form label-position="top" @submit.prevent="publish">
          <el-form-item :label="t('outages.domain')">
            <el-radio-group v-model="form.domain">
              <el-radio-button v-for="d in OUTAGE_DOMAINS" :key="d" :value="d">{{ t('domain.' + d) }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('outages.kind')">
            <el-radio-group v-model="form.kind">
              <el-radio-button value="planned">{{ t('outages.kinds.planned') }}</el-radio-button>
              <el-radio-button value="emergency">{{ t('outages.kinds.emergency') }}</el-radio-button>
            </el-radio-group>
          </el-form-item>
          <el-form-item :label="t('outages.titleField')" required><el-input v-model="form.title" maxlength="200" /></el-form-item>
          <el-form-item :label="t('outages.areas')" required>
            <el-select v-model="form.areas" multiple filterable class="full">
              <el-option-group v-for="d in refs.districts" :key="d.code" :label="nameOf(d)">
                <el-option :value="d.code" :label="nameOf(d)" />
                <el-option v-for="s in d.streets" :key="s.code" :value="s.code" :label="nameOf(s)" />
              </el-option-group>
            </el-select>
          </el-form-item>
          <el-form-item :label="t('outages.starts') + ' — ' + t('outages.ends')" required>
            <el-date-picker v-model="form.window" type="datetimerange" class="full" />
          </el-form-item>
          <el-form-item :label="t('outages.description')"><el-input v-model="form.description" type="textarea" :rows="3" maxlength="4000" /></el-form-item>
          <el-button type="primary" native-type="submit" :loading="saving">{{ t('outages.publish') }}</el-button>
        </el-form>
      </el-card>
    </div>
  </div>`,
};
