import type { SandboxAttachment } from '@bastion/sandbox';
import { SandboxAttachments } from './sandbox-attachments';

function attachment(closed: string[], name: string): SandboxAttachment {
  return { mounts: [], env: {}, close: async () => void closed.push(name) };
}

describe('SandboxAttachments', () => {
  it('closes every attachment once, however often release is called', async () => {
    const closed: string[] = [];
    const attachments = new SandboxAttachments();
    attachments.add(attachment(closed, 'workspace'));
    attachments.add(attachment(closed, 'gateway'));
    await attachments.release();
    await attachments.release();
    expect(closed.sort()).toEqual(['gateway', 'workspace']);
  });

  it('release works detached from the object, as SandboxRun.release is handed out', async () => {
    const closed: string[] = [];
    const attachments = new SandboxAttachments();
    attachments.add(attachment(closed, 'workspace'));
    const { release } = attachments;
    await release();
    expect(closed).toEqual(['workspace']);
  });
});
