// The caller's profile editor: name, flags, representative, language, place and notes,
// changed by agents and supervisors; below, every change (who, when, old → new).

import { reactive, ref, watch } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { errorText } from "../../store.js";
import { AreaSelect } from "../pickers.js";

const LANGUAGES = ["", "zh", "en", "ko", "ja"];
const FIELDS = ["name", "special_needs", "key_account", "representative_username",
  "preferred_language", "area_code", "address", "notes"];

function formOf(citizen) {
  const c = citizen || {};
  return {
    name: c.name || "",
    special_needs: !!c.special_needs,
    key_account: !!c.key_account,
    representative_username: c.representative_username || "",
    preferred_language: c.preferred_language || "",
    area_code: c.area_code || "",
    address: c.address || "",
    notes: c.notes || "",
  };
}

export default {
  components: { AreaSelect },
  props: { modelValue: Boolean, profile: Object }, // the caller's profile (GET /callers/…)
  emits: ["update:modelValue", "saved"],
  setup(props, { emit }) {
    const { t } = useI18n();
    const form = reactive(formOf(props.profile?.citizen));
    const fieldErrors = ref({});
    const saving = ref(false);
    watch(
      () => [props.modelValue, props.profile],
      () => {
        Object.assign(form, formOf(props.profile?.citizen));
        fieldErrors.value = {};
      },
    );

    // Booleans and words as the history shows them, in the screen's language.
    function shown(field, value) {
      if (value === "true" || value === "false") return t("app." + (value === "true" ? "yes" : "no"));
      if (field === "preferred_language") return value ? t("callerProfile.languages." + value) : t("app.none");
      return value || t("app.none");
    }

    async function save() {
      saving.value = true;
      fieldErrors.value = {};
      const before = formOf(props.profile?.citizen);
      const body = {};
      for (const f of FIELDS) if (form[f] !== before[f]) body[f] = form[f] === "" && f === "area_code" ? null : form[f];
      try {
        const profile = await api.patch("/api/v1/callers/" + encodeURIComponent(props.profile.phone), body);
        ElMessage.success(t("app.saved"));
        emit("saved", profile);
      } catch (e) {
        fieldErrors.value = e.fields || {};
        ElMessage.error(errorText(e));
      } finally {
        saving.value = false;
      }
    }
    return { t, form, fieldErrors, saving, save, shown, LANGUAGES };
  },
  template: `
  <el-dialog :model-value="modelValue" @update:model-value="$emit('update:modelValue', $event)"
             :title="t('callerProfile.title', { phone: profile?.phone || '' })" width="min(640px, 96vw)"
             data-test="caller-profile">
    <el-form label-position="top" class="profile-form" @submit.prevent>
      <div class="form-row">
        <el-form-item :label="t('agent.callerName')" :error="fieldErrors.name">
          <el-input v-model="form.name" maxlength="64" data-test="profile-name" />
        </el-form-item>
        <el-form-item :label="t('callerProfile.language')" :error="fieldErrors.preferred_language">
          <el-select v-model="form.preferred_language" class="full" :placeholder="t('callerProfile.notSaid')"
                     data-test="profile-language">
            <el-option v-for="l in LANGUAGES" :key="l" :value="l"
                       :label="l ? t('callerProfile.languages.' + l) : t('app.none')" />
          </el-select>
        </el-form-item>
      </div>
      <div class="form-row">
        <el-checkbox v-model="form.special_needs" data-test="profile-special-needs">{{ t('agent.specialNeeds') }}</el-checkbox>
        <el-checkbox v-model="form.key_account" data-test="profile-key-account">{{ t('agent.keyAccount') }}</el-checkbox>
      </div>
      <el-form-item :label="t('callerProfile.representative')" :error="fieldErrors.representative_username">
        <el-input v-model="form.representative_username" maxlength="64" :placeholder="t('callerProfile.representativeHint')"
                  data-test="profile-representative" />
      </el-form-item>
      <div class="form-row">
        <el-form-item :label="t('agent.area')" :error="fieldErrors.area_code">
          <AreaSelect v-model="form.area_code" :placeholder="t('agent.areaHint')" />
        </el-form-item>
        <el-form-item :label="t('agent.address')" :error="fieldErrors.address">
          <el-input v-model="form.address" maxlength="300" data-test="profile-address" />
        </el-form-item>
      </div>
      <el-form-item :label="t('callerProfile.notes')" :error="fieldErrors.notes">
        <el-input v-model="form.notes" type="textarea" :rows="2" maxlength="2000" data-test="profile-notes" />
      </el-form-item>
    </el-form>
    <h4>{{ t('callerProfile.history') }}</h4>
    <div v-if="!profile?.changes?.length" class="muted small">{{ t('callerProfile.noChanges') }}</div>
    <el-table v-else :data="profile.changes" size="small" max-height="220" data-test="profile-history">
      <el-table-column :label="t('callerProfile.when')" width="150">
        <template #default="{ row }">{{ $fmtTime(row.changed_at) }}</template></el-table-column>
      <el-table-column :label="t('callerProfile.who')" prop="actor" min-width="110" />
      <el-table-column :label="t('callerProfile.field')" min-width="90">
        <template #default="{ row }">{{ t('callerProfile.fields.' + row.field) }}</template></el-table-column>
      <el-table-column :label="t('callerProfile.change')" min-width="160">
        <template #default="{ row }">{{ shown(row.field, row.old_value) }} → {{ shown(row.field, row.new_value) }}</template>
      </el-table-column>
    </el-table>
    <template #footer>
      <el-button @click="$emit('update:modelValue', false)">{{ t('app.cancel') }}</el-button>
      <el-button type="primary" :loading="saving" @click="save" data-test="profile-save">{{ t('app.save') }}</el-button>
    </template>
  </el-dialog>`,
};
