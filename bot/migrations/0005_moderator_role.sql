-- A role whose members may run moderator commands besides those with Manage Server.
ALTER TABLE guild_settings ADD COLUMN moderator_role_id INTEGER;
