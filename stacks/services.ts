// Enables the Google APIs the pipeline uses, so `pulumi up` works on a fresh project.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export const REQUIRED_APIS = [
  "compute.googleapis.com",
  "iam.googleapis.com",
  "storage.googleapis.com",
  "dataproc.googleapis.com",
  "composer.googleapis.com",
  "bigquery.googleapis.com",
  "cloudfunctions.googleapis.com",
  "run.googleapis.com",
  "eventarc.googleapis.com",
  "pubsub.googleapis.com",
  "cloudbuild.googleapis.com",
  "artifactregistry.googleapis.com",
  "iap.googleapis.com",
  // The alert policies, log-based metrics and dashboard (on by default in new projects, not in every project).
  "logging.googleapis.com",
  "monitoring.googleapis.com",
] as const;

/** Google Cloud Managed Service for Apache Kafka, enabled only when the stack's topic lives there. */
export const MANAGED_KAFKA_API = "managedkafka.googleapis.com";

/** Secret Manager holds the stack broker's SCRAM passwords (`kafka: dataproc`). */
export const SECRET_MANAGER_API = "secretmanager.googleapis.com";

/** The APIs a stack with these settings calls. */
export function apisFor(config: { kafka: string }): string[] {
  return [...REQUIRED_APIS, ...(config.kafka === "managed" ? [MANAGED_KAFKA_API] : [SECRET_MANAGER_API])];
}

export class ProjectServices extends pulumi.ComponentResource {
  /** Depend on these before declaring anything that calls one of the APIs. */
  readonly enabled: gcp.projects.Service[];

  constructor(name: string, args: { project: string; apis: string[] }, opts?: pulumi.ComponentResourceOptions) {
    super("clickstream:stack:ProjectServices", name, {}, opts);
    this.enabled = args.apis.map(
      (api) =>
        new gcp.projects.Service(
          `${name}-${api.split(".")[0]}`,
          // Left enabled on destroy: other workloads in the project may use the same APIs.
          { project: args.project, service: api, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    // The APIs enabled, as Google names them.
    this.registerOutputs({ enabled: this.enabled.map((service) => service.service) });
  }
}
