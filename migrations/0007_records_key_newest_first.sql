DROP INDEX `objects_key`;--> statement-breakpoint
CREATE INDEX `objects_key` ON `objects` (`key`,"id" desc);