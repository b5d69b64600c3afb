CREATE TABLE "access_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"secret" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" bigint NOT NULL,
	"account_id" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "accounts_name_unique" UNIQUE("name"),
	CONSTRAINT "accounts_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "bucket_cors" (
	"bucket_id" bigint PRIMARY KEY NOT NULL,
	"rules" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "buckets" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text COLLATE "C" NOT NULL,
	"region" text NOT NULL,
	"created_at" bigint NOT NULL,
	"owner_id" text DEFAULT '' NOT NULL,
	"acl" text,
	"ownership" text DEFAULT 'ObjectWriter' NOT NULL,
	"policy" text,
	"versioning" text,
	"object_lock" boolean DEFAULT false NOT NULL,
	"lock_default_mode" text,
	"lock_default_days" bigint,
	"lock_default_years" bigint,
	"default_encryption" text,
	"tags" text,
	"lifecycle" text,
	CONSTRAINT "buckets_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "chunk_claims" (
	"hash" text NOT NULL,
	"holder" text NOT NULL,
	"kind" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "chunk_claims_hash_holder_kind_pk" PRIMARY KEY("hash","holder","kind")
);
--> statement-breakpoint
CREATE TABLE "chunks" (
	"hash" text PRIMARY KEY NOT NULL,
	"size" bigint NOT NULL,
	"crc32c" bigint NOT NULL,
	"refcount" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"data" "bytea"
);
--> statement-breakpoint
CREATE TABLE "completed_uploads" (
	"upload_id" text PRIMARY KEY NOT NULL,
	"bucket_id" bigint NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"etag" text NOT NULL,
	"completed_at" bigint NOT NULL,
	"version_id" text DEFAULT 'null' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateways" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" bigint NOT NULL,
	"s3_url" text DEFAULT '' NOT NULL,
	"admin_url" text DEFAULT '' NOT NULL,
	"version" text DEFAULT '' NOT NULL,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "key_grants" (
	"access_key_id" text NOT NULL,
	"bucket" text NOT NULL,
	"permission" text NOT NULL,
	CONSTRAINT "key_grants_access_key_id_bucket_pk" PRIMARY KEY("access_key_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lifecycle_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" bigint NOT NULL,
	"finished_at" bigint,
	"trigger" text NOT NULL,
	"evaluated_at" bigint NOT NULL,
	"versions_expired" bigint DEFAULT 0 NOT NULL,
	"markers_added" bigint DEFAULT 0 NOT NULL,
	"markers_removed" bigint DEFAULT 0 NOT NULL,
	"uploads_aborted" bigint DEFAULT 0 NOT NULL,
	"bytes_expired" bigint DEFAULT 0 NOT NULL,
	"locked_kept" bigint DEFAULT 0 NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "multipart_uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"bucket_id" bigint NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"initiated" bigint NOT NULL,
	"content_type" text,
	"content_encoding" text,
	"content_disposition" text,
	"content_language" text,
	"cache_control" text,
	"expires" text,
	"storage_class" text DEFAULT 'STANDARD' NOT NULL,
	"user_metadata" text DEFAULT '{}' NOT NULL,
	"checksum_algorithm" text,
	"checksum_type" text,
	"lock_mode" text,
	"lock_until" bigint,
	"legal_hold" boolean DEFAULT false NOT NULL,
	"owner_id" text,
	"acl" text,
	"encryption" text,
	"sse_customer_key_md5" text,
	"tags" text
);
--> statement-breakpoint
CREATE TABLE "object_chunks" (
	"object_id" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"offset" bigint NOT NULL,
	"size" bigint NOT NULL,
	"chunk_hash" text NOT NULL,
	CONSTRAINT "object_chunks_object_id_seq_pk" PRIMARY KEY("object_id","seq")
);
--> statement-breakpoint
CREATE TABLE "object_parts" (
	"object_id" bigint NOT NULL,
	"part_number" bigint NOT NULL,
	"offset" bigint NOT NULL,
	"size" bigint NOT NULL,
	"checksum_value" text,
	CONSTRAINT "object_parts_object_id_part_number_pk" PRIMARY KEY("object_id","part_number")
);
--> statement-breakpoint
CREATE TABLE "object_tags" (
	"object_id" bigint NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"value" text COLLATE "C" NOT NULL,
	CONSTRAINT "object_tags_object_id_key_pk" PRIMARY KEY("object_id","key")
);
--> statement-breakpoint
CREATE TABLE "objects" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"bucket_id" bigint NOT NULL,
	"key" text COLLATE "C" NOT NULL,
	"size" bigint NOT NULL,
	"etag" text NOT NULL,
	"content_type" text,
	"content_encoding" text,
	"content_disposition" text,
	"content_language" text,
	"cache_control" text,
	"expires" text,
	"storage_class" text DEFAULT 'STANDARD' NOT NULL,
	"user_metadata" text DEFAULT '{}' NOT NULL,
	"checksum_algorithm" text,
	"checksum_value" text,
	"checksum_type" text,
	"part_count" bigint,
	"last_modified" bigint NOT NULL,
	"version_id" text DEFAULT 'null' NOT NULL,
	"is_current" boolean DEFAULT true NOT NULL,
	"delete_marker" boolean DEFAULT false NOT NULL,
	"lock_mode" text,
	"lock_until" bigint,
	"legal_hold" boolean DEFAULT false NOT NULL,
	"owner_id" text,
	"acl" text,
	"encryption" text,
	"sse_customer_key_md5" text,
	"tag_count" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "part_chunks" (
	"upload_id" text NOT NULL,
	"part_number" bigint NOT NULL,
	"seq" bigint NOT NULL,
	"offset" bigint NOT NULL,
	"size" bigint NOT NULL,
	"chunk_hash" text NOT NULL,
	CONSTRAINT "part_chunks_upload_id_part_number_seq_pk" PRIMARY KEY("upload_id","part_number","seq")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upload_parts" (
	"upload_id" text NOT NULL,
	"part_number" bigint NOT NULL,
	"size" bigint NOT NULL,
	"etag" text NOT NULL,
	"checksum_value" text,
	"last_modified" bigint NOT NULL,
	CONSTRAINT "upload_parts_upload_id_part_number_pk" PRIMARY KEY("upload_id","part_number")
);
--> statement-breakpoint
ALTER TABLE "bucket_cors" ADD CONSTRAINT "bucket_cors_bucket_id_buckets_id_fk" FOREIGN KEY ("bucket_id") REFERENCES "public"."buckets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "key_grants" ADD CONSTRAINT "key_grants_access_key_id_access_keys_id_fk" FOREIGN KEY ("access_key_id") REFERENCES "public"."access_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "multipart_uploads" ADD CONSTRAINT "multipart_uploads_bucket_id_buckets_id_fk" FOREIGN KEY ("bucket_id") REFERENCES "public"."buckets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "object_chunks" ADD CONSTRAINT "object_chunks_object_id_objects_id_fk" FOREIGN KEY ("object_id") REFERENCES "public"."objects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "object_chunks" ADD CONSTRAINT "object_chunks_chunk_hash_chunks_hash_fk" FOREIGN KEY ("chunk_hash") REFERENCES "public"."chunks"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "object_parts" ADD CONSTRAINT "object_parts_object_id_objects_id_fk" FOREIGN KEY ("object_id") REFERENCES "public"."objects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "object_tags" ADD CONSTRAINT "object_tags_object_id_objects_id_fk" FOREIGN KEY ("object_id") REFERENCES "public"."objects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "objects" ADD CONSTRAINT "objects_bucket_id_buckets_id_fk" FOREIGN KEY ("bucket_id") REFERENCES "public"."buckets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "part_chunks" ADD CONSTRAINT "part_chunks_chunk_hash_chunks_hash_fk" FOREIGN KEY ("chunk_hash") REFERENCES "public"."chunks"("hash") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "upload_parts" ADD CONSTRAINT "upload_parts_upload_id_multipart_uploads_id_fk" FOREIGN KEY ("upload_id") REFERENCES "public"."multipart_uploads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chunk_claims_expires" ON "chunk_claims" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "multipart_uploads_bucket_key" ON "multipart_uploads" USING btree ("bucket_id","key","id");--> statement-breakpoint
CREATE INDEX "multipart_uploads_initiated" ON "multipart_uploads" USING btree ("initiated");--> statement-breakpoint
CREATE UNIQUE INDEX "object_chunks_offset" ON "object_chunks" USING btree ("object_id","offset");--> statement-breakpoint
CREATE INDEX "object_chunks_hash" ON "object_chunks" USING btree ("chunk_hash");--> statement-breakpoint
CREATE INDEX "object_tags_key_value" ON "object_tags" USING btree ("key","value","object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "objects_current" ON "objects" USING btree ("bucket_id","key") WHERE is_current;--> statement-breakpoint
CREATE UNIQUE INDEX "objects_version" ON "objects" USING btree ("bucket_id","key","version_id");--> statement-breakpoint
CREATE INDEX "objects_versions" ON "objects" USING btree ("bucket_id","key","id" desc);--> statement-breakpoint
CREATE INDEX "objects_bucket_size" ON "objects" USING btree ("bucket_id","size","id");--> statement-breakpoint
CREATE INDEX "objects_bucket_modified" ON "objects" USING btree ("bucket_id","last_modified","id");--> statement-breakpoint
CREATE INDEX "objects_key" ON "objects" USING btree ("key","id" desc);--> statement-breakpoint
CREATE INDEX "objects_size" ON "objects" USING btree ("size","id");--> statement-breakpoint
CREATE INDEX "objects_modified" ON "objects" USING btree ("last_modified","id");--> statement-breakpoint
CREATE INDEX "objects_content_type" ON "objects" USING btree ("content_type","id");--> statement-breakpoint
CREATE INDEX "objects_etag" ON "objects" USING btree ("etag","id");--> statement-breakpoint
CREATE INDEX "part_chunks_hash" ON "part_chunks" USING btree ("chunk_hash");