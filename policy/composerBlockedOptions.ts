// Airflow options Cloud Composer refuses to override, from Google's "Airflow configuration options blocked in
// Cloud Composer" page (Airflow 2.10.5): an environment that sets one is refused after a long create.

/** Sections whose every option is blocked. */
export const BLOCKED_SECTIONS = ["cli"];

/** Blocked options, written as Composer's override keys: `<section>-<option>`. */
export const BLOCKED_OPTIONS = [
  "celery-broker_url",
  "celery-celery_app_name",
  "celery-default_queue",
  "celery-pool",
  "celery-result_backend",
  "celery-worker_log_server_port",
  "core-base_log_folder",
  "core-dags_folder",
  "core-encrypt_s3_logs",
  "core-fernet_key",
  "core-load_examples",
  "core-log_format",
  "core-logging_config_class",
  "core-plugins_folder",
  "core-remote_base_log_folder",
  "core-remote_log_conn_id",
  "core-remote_logging",
  "core-security",
  "core-sql_alchemy_conn",
  "core-sql_alchemy_pool_recycle",
  "core-sql_alchemy_pool_size",
  "core-store_dag_code",
  "core-store_serialized_dags",
  "core-task_log_reader",
  "core-wait_dag_not_found_timeout",
  "database-alembic_ini_file_path",
  "database-sql_alchemy_conn",
  "database-sql_alchemy_pool_recycle",
  "database-sql_alchemy_pool_size",
  "kubernetes-namespace",
  "kubernetes-pod_template_file",
  "operators-default_queue",
  "scheduler-child_process_log_directory",
  "smtp-smtp_password",
];

/** Whether Composer refuses an override key such as `core-load_examples`. */
export function isBlockedOverride(key: string): boolean {
  return BLOCKED_OPTIONS.includes(key) || BLOCKED_SECTIONS.includes(key.split("-")[0]);
}
