-- A bucket made public before accounts (anonymous listings and GETs) keeps exactly that: the
-- public-read ACL (listings) and a policy statement letting everyone GET its objects, the two
-- AccessControlService.setPublic writes (src/s3/acl.ts encodeAcl's stored form).
UPDATE `buckets` SET
  `acl` = json_array(json_object('id', `owner_id`, 'perm', 'FULL_CONTROL'), json_object('uri', 'http://acs.amazonaws.com/groups/global/AllUsers', 'perm', 'READ')),
  `policy` = json_object('Version', '2012-10-17', 'Statement', json_array(json_object('Sid', 'CairnPublicRead', 'Effect', 'Allow', 'Principal', '*', 'Action', 's3:GetObject', 'Resource', 'arn:aws:s3:::' || `name` || '/*')))
  WHERE `public_read` = 1;--> statement-breakpoint
ALTER TABLE `buckets` DROP COLUMN `public_read`;
