-- Removing a channel keeps its delivery log (what was sent, when, with which answer): the
-- deliveries lose their channel instead of going with it. Ones still waiting are ended by the
-- removal itself (apps/web alert.channel.remove), so nothing is sent through a removed channel.
ALTER TABLE "AlertDelivery" DROP CONSTRAINT "AlertDelivery_channelId_fkey";
ALTER TABLE "AlertDelivery" ADD CONSTRAINT "AlertDelivery_channelId_fkey" FOREIGN KEY ("channelId") REFERENCES "AlertChannel"("id") ON DELETE SET NULL ON UPDATE CASCADE;
